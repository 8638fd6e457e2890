# Face Emotion Recognition course. `make help` lists the targets.
# The run profile comes from FER_PROFILE (smoke | quick | laptop | full; default laptop).
PYTHON ?= python
OUT ?= outputs/run
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: help install course assignments import-lms grade data-source lint test test-unit test-notebooks test-report report benchmark benchmark-prediction benchmark-detection lab book clean
help:
	@echo "make install         install everything (python -m pip install -r requirements.txt)"
	@echo "make course          run the six notebooks headless; executed copies + figures in $(OUT)"
	@echo "make help            this list"
	@echo "make test            lint + unit tests + the notebooks under nbval (use FER_PROFILE=smoke)"
	@echo "make data-source     which data the tests and notebooks will use (part of make test)"
	@echo "make lint            ruff check and ruff format --check (rules in pyproject.toml)"
	@echo "make test-unit       pytest tests/ on PYTEST_WORKERS processes (default auto: one per core)"
	@echo "make test-notebooks  the six notebooks under nbval; they write to TEST_OUT=$(TEST_OUT)"
	@echo "make test-report     the report from what test-notebooks wrote must be complete"
	@echo "make report          one HTML page from the outputs of a course run (for instructors)"
	@echo "make benchmark       training/inference speed: course setup vs the plain Keras default"
	@echo "make benchmark-prediction  face latency and video frames/s on one CPU core"
	@echo "make benchmark-detection   face detection on hard photos: recall and time, MTCNN vs Haar"
	@echo "make lab             open JupyterLab in notebooks/"
	@echo "make book            the course website in $(BOOK): README, the six notebooks as committed (not run), docs/"
	@echo "make assignments     student notebooks (no solutions), student package, autograders and rubric in $(DIST)"
	@echo "                     REPO=owner/name BRANCH=main: Colab/Kaggle badges for student/ in that GitHub repository"
	@echo "                     (default: the origin remote); FER_PRIVATE_CHECKS=file.json: your own hidden checks"
	@echo "make import-lms DOWNLOAD=d SUBMISSIONS=folder   an LMS download (Canvas: folder or .zip) as one sub-folder per student"
	@echo "make grade SUBMISSIONS=folder   grade one sub-folder or .zip per student: $(DIST)/grades/gradebook.csv and lms_grades.csv (TIMEOUT=$(TIMEOUT) s per notebook, JOBS=$(JOBS) at a time)"
	@echo "make clean           delete outputs/, data/cache/, _build/ and .pytest_cache (not the dataset, not dist/)"

install:
	$(PYTHON) -m pip install -r requirements.txt

course:
	$(PYTHON) -m fer_utils.course --out $(OUT)

# The unit tests and the notebooks run side by side (two jobs; their outputs are printed whole, one
# after the other): much of a smoke run is single-threaded Python (building and tracing models), so
# two jobs keep both cores busy. data-source decodes FER-2013 and finds its twins once, before them.
# Side by side, each TensorFlow process gets one thread per pool (TEST_THREADS): with TensorFlow's
# default pools the processes contend for the cores (measured on 2 cores: two smoke experiment runs
# side by side took 66-77 s with the default pools, 54-55 s with one thread each, 54 s alone).
TEST_THREADS ?= 1
test: data-source lint
	@TF_NUM_INTRAOP_THREADS=$(TEST_THREADS) TF_NUM_INTEROP_THREADS=$(TEST_THREADS) OMP_NUM_THREADS=$(TEST_THREADS) \
		$(MAKE) --no-print-directory -j2 --output-sync=target test-unit test-notebooks
	@$(MAKE) --no-print-directory test-report

# which data the tests and notebooks will use (a loud warning when FER-2013 is missing); with
# FER-2013, fills data/cache (decoded arrays and twins) so that parallel jobs only read it
data-source:
	@$(PYTHON) -c "from fer_utils import data, twins; line = data.data_source_line(); print(line, flush=True); \
		line.startswith('Data:') and (r := twins.find_twins(data.load_fer2013(verbose=False))) and \
		print(f'data/cache ready (twins {\"read\" if r.from_cache else \"found\"} in {r.seconds:.1f} s)')"

lint:
	$(PYTHON) -m ruff check fer_utils scripts tests book
	$(PYTHON) -m ruff format --check fer_utils scripts tests book

# one pytest process per core (pytest-xdist); tests marked xdist_group share a worker (tests/conftest.py)
PYTEST_WORKERS ?= auto
test-unit:
	$(PYTHON) -m pytest -rs -n $(PYTEST_WORKERS) --dist loadgroup --durations=25 tests

# the notebooks write to TEST_OUT, so a smoke test never overwrites the models and figures of your course run;
# JPY_SESSION_NAME names each run record after its notebook (nbval starts its kernels without it)
TEST_OUT ?= $(CURDIR)/outputs/test
test-notebooks:
	@if ! ls notebooks/*.ipynb >/dev/null 2>&1; then echo "no notebooks yet"; exit 0; fi; \
	status=0; for nb in notebooks/*.ipynb; do \
		start=$$(date +%s); \
		FER_PROFILE=$${FER_PROFILE:-smoke} FER_OUTPUT_DIR=$(TEST_OUT) JPY_SESSION_NAME=$(CURDIR)/$$nb $(PYTHON) -m pytest -q --nbval-lax \
			--nbval-current-env -p no:cacheprovider $$nb || status=1; \
		echo "nbval $$nb: $$(( $$(date +%s) - start )) s"; \
	done; exit $$status

# the notebooks just run by nbval wrote TEST_OUT/metrics.json and the figures: the report must be complete
test-report:
	$(PYTHON) -m fer_utils.report --outputs $(TEST_OUT) --strict
	@for nb in notebooks/[0-9][0-9]_*.ipynb; do name=$$(basename $$nb .ipynb); \
		test -f $(TEST_OUT)/runs/$$name.json || { echo "ERROR: $$nb wrote no run record $(TEST_OUT)/runs/$$name.json"; exit 1; }; \
	done

report:
	$(PYTHON) -m fer_utils.report --run $(OUT)

benchmark:
	$(PYTHON) scripts/benchmark_training.py

benchmark-prediction:
	$(PYTHON) scripts/benchmark_prediction.py

benchmark-detection:
	$(PYTHON) scripts/benchmark_detection.py

# instructors: otter-grader builds the assignments from the six notebooks and grades without Docker
DIST ?= dist
# REPO=owner/name (GitHub) holds $(DIST)/student/ as student/ on BRANCH; empty: read from `git remote get-url origin`
REPO ?=
BRANCH ?= main
assignments:
	$(PYTHON) -m fer_utils.grading assign --out $(DIST) $(if $(REPO),--repo $(REPO)) --branch $(BRANCH)

# Canvas's "Download Submissions" (a flat folder or .zip) as one sub-folder per student for `grade`
import-lms:
	@test -n "$(DOWNLOAD)" -a -n "$(SUBMISSIONS)" || { echo "usage: make import-lms DOWNLOAD=<LMS download folder or .zip> SUBMISSIONS=<folder>"; exit 2; }
	$(PYTHON) -m fer_utils.grading import-lms --download $(DOWNLOAD) --out $(SUBMISSIONS)

# each notebook is stopped after TIMEOUT seconds (it keeps what its checks earned until then);
# JOBS notebooks are graded at a time, each in its own process (one per core suits a CPU machine)
TIMEOUT ?= 1200
JOBS ?= 1
grade:
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder with one sub-folder or .zip per student>"; exit 2; }
	$(PYTHON) -m fer_utils.grading grade --submissions $(SUBMISSIONS) --dist $(DIST) --timeout $(TIMEOUT) --jobs $(JOBS)

# Jupyter refuses to start as root unless told; containers and cloud machines often run as root
lab:
	cd notebooks && $(PYTHON) -m jupyter lab $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# the course website (Sphinx + MyST-NB, configured in book/conf.py): static HTML for GitHub Pages;
# warnings (a broken link, a missing page) fail the build
BOOK ?= _build/book
book:
	$(PYTHON) -m sphinx -b html -q -W --keep-going -c book -d $(dir $(BOOK))doctrees . $(BOOK)

clean:
	rm -rf outputs .pytest_cache data/cache _build
