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

.PHONY: help bootstrap kube sandbox molecule test lint sanity unit integration changelog release-changelog build ee docs clean

help:
	@echo "make sandbox   converge inventories/sandbox against the local emulators (twice) and summarise"
	@echo "make test      lint, sanity, unit and integration tests (what CI runs)"
	@echo "make molecule  every molecule scenario (molecule/: default, gpu, render), each against fresh stand-ins"
	@echo "make kube      build the local control plane (kube-apiserver, controller-manager, scheduler, etcd, kwok)"
	@echo "               from the Go module proxy into ~/.cache/accelci/kube (once per machine and version)"
	@echo "make unit | integration | lint | sanity | clean"
	@echo "make build     the collection tarball in build/dist (what ansible-galaxy collection install takes)"
	@echo "make ee        build, then the execution environment's build context in build/ee (no image is built)"
	@echo "make changelog CHANGELOG.rst for the galaxy.yml version from the fragments, in build/changelog (a preview:"
	@echo "               the fragments stay); make release-changelog writes the release into changelogs/ for real"
	@echo "make docs      check the plugin docs and write the reference pages (RST and HTML) to build/docs"

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

# molecule test of each scenario with its own stand-ins (scripts/molecule.py); MOLECULE_SCENARIOS="gpu render" picks.
MOLECULE_SCENARIOS ?=
molecule: bootstrap kube
	$(BIN)/python scripts/molecule.py $(MOLECULE_SCENARIOS)

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

# execution-environment.yml is a link to meta/execution-environment.yml: ansible-builder reads a definition's paths
# relative to the file it is given, and that file's paths are relative to the collection's root. create needs no
# container engine; the image is built from build/ee with podman or docker.
ee: build
	rm -rf build/ee
	$(BIN)/ansible-builder create --file execution-environment.yml --context build/ee --output-filename Containerfile

# A preview from a copy outside the repository (antsibull-changelog reads the plugins through git inside one, and
# a release deletes the fragments, keep_fragments being false): the working tree is left as it is.
changelog: bootstrap
	rm -rf build/changelog
	mkdir -p build/changelog
	preview=$$(mktemp -d) && trap 'rm -rf "$$preview"' EXIT && \
	  cp -R galaxy.yml changelogs meta plugins roles "$$preview"/ && \
	  (cd "$$preview" && antsibull-changelog release --reload-plugins) && \
	  cp "$$preview/CHANGELOG.rst" "$$preview/changelogs/changelog.yaml" build/changelog/
	@echo "build/changelog/CHANGELOG.rst"

# The release itself: the fragments become the galaxy.yml version's entry in changelogs/changelog.yaml and
# CHANGELOG.rst, and are deleted; commit the three together, then make build.
release-changelog: bootstrap
	$(BIN)/antsibull-changelog release --reload-plugins
	rm -f changelogs/.plugin-cache.yaml

# antsibull-docs wants a Sphinx whose docutils is older than the one requirements/constraints.txt pins, so the docs
# get a virtualenv of their own. Cross-references to docs.ansible.com need the network; without it Sphinx warns.
DOCS_VENV := build/venv-docs

$(DOCS_VENV)/.installed: requirements/docs.txt
	$(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet --upgrade 'pip>=24'
	$(DOCS_VENV)/bin/python -m pip install --quiet -r requirements/docs.txt
	touch $@

docs: $(DOCS_VENV)/.installed $(COLLECTION_LINK)
	PATH=$(CURDIR)/$(DOCS_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) \
	  antsibull-docs lint-collection-docs --plugin-docs $(COLLECTION_LINK)
	rm -rf build/docs
	mkdir -p -m 0700 build/docs
	PATH=$(CURDIR)/$(DOCS_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) \
	  antsibull-docs sphinx-init --use-current --squash-hierarchy --dest-dir build/docs accelci.runners
	PATH=$(CURDIR)/$(DOCS_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/$(COLLECTIONS) \
	  antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --dest-dir build/docs/rst \
	  accelci.runners
	$(DOCS_VENV)/bin/sphinx-build -M html build/docs/rst build/docs/build -c build/docs -q
	@echo "build/docs/rst (one page per plugin and role) and build/docs/build/html/index.html"

clean:
	rm -rf build $(VENV) rendered .pytest_cache
