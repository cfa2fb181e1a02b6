# Two entry points: `make sandbox` (converge the sample estate against local emulators) and `make test`.
# Both bootstrap what they need on a fresh machine with Python 3.11 and access to PyPI.

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
COLLECTIONS := build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/accelci/runners
HELM := build/bin/helm
PYTEST_ARGS ?=

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/build/bin:$(PATH)

.PHONY: help bootstrap kube sandbox test lint sanity unit integration changelog build clean

help:
	@echo "make sandbox   converge inventories/sandbox against the local emulators (twice) and summarise"
	@echo "make test      lint, sanity, unit and integration tests (what CI runs)"
	@echo "make kube      build the local control plane (kube-apiserver, controller-manager, scheduler, etcd, kwok)"
	@echo "               from the Go module proxy into ~/.cache/accelci/kube (once per machine and version)"
	@echo "make unit | integration | lint | sanity | build | clean"

$(BIN)/.installed: requirements.txt requirements/test.txt requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=24'
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements/test.txt -c requirements/constraints.txt
	touch $@

# The repository is the collection; a link under an ansible_collections/ tree makes it importable
# as accelci.runners for ansible-playbook (see ansible.cfg) and for pytest (see tests/conftest.py).
$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

$(HELM): $(BIN)/.installed scripts/install_helm.py
	$(BIN)/python scripts/install_helm.py $@

bootstrap: $(BIN)/.installed $(COLLECTION_LINK) $(HELM)

# Builds only what is missing (the cache key names the versions pinned in tools/kube and tools/kwok); needs Go.
kube: $(BIN)/.installed
	$(BIN)/python -m tests.emulators.kube.build

sandbox: bootstrap kube
	$(BIN)/python scripts/sandbox.py

# pytest last, over the whole tests/ tree, so its summary line is the run's last word. pytest exits 5 when it
# collects nothing; that fails the target on purpose.
test: lint sanity bootstrap kube
	$(BIN)/pytest tests $(PYTEST_ARGS)

unit: bootstrap
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: bootstrap kube
	$(BIN)/pytest tests/integration $(PYTEST_ARGS)

lint: bootstrap
	$(BIN)/ansible-lint --offline
	$(BIN)/antsibull-changelog lint

sanity: bootstrap
	$(BIN)/python scripts/run_sanity.py

build: bootstrap
	$(BIN)/ansible-galaxy collection build --force --output-path build/dist .

clean:
	rm -rf build $(VENV) rendered .pytest_cache
