# SPDX-License-Identifier: BSD-3-Clause
# zufs top-level Makefile.
#
#   make            build zuf.ko (against KDIR) and all user-space parts
#   make kernel     only zuf.ko          make user   only user space
#   make test       make deps + make all + tests/run
#   make deps       install the Debian packages the project needs
#   make demo       scripts/demo.sh      make bench  bench/run
#   make vm-shell   interactive root shell in the test VM
#   make fuzz-soak  the ABI fuzzer for FUZZ_MINUTES (10) in a VM (FUZZ_ARGS=)
#   make crash-long the zpmfs crash explorer's long mode (tests/crash)
#   make powercut-long  10 power cuts in a VM (tests/host/48, POWERCUT_ROUNDS)
#   make clean      remove all build products (kernel ones too)
#   make install    user space, headers, libzus, man pages (DESTDIR, PREFIX)
#   make uninstall  remove what make install put there (same DESTDIR, PREFIX)
#   make install-dkms / uninstall-dkms   zuf.ko's source for DKMS in /usr/src
#   make test-dkms  build zuf.ko with dkms for every installed kernel
#
# KDIR: kernel build dir, default the newest /lib/modules/*/build.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build
.DEFAULT_GOAL := all

KDIR ?= $(lastword $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V))
# the VM boots the kernel KDIR belongs to (tests/vm/run reads $KVER)
ifneq ($(filter /lib/modules/%/build,$(KDIR)),)
export KVER := $(patsubst /lib/modules/%/build,%,$(KDIR))
endif

KMOD_DIR := $(TOP)/kernel/zuf
HAVE_KMOD := $(wildcard $(KMOD_DIR)/Kbuild)

# user-space parts, in dependency order; each one only if it has a Makefile
USER_DIRS := $(patsubst %/Makefile,%,$(wildcard $(addsuffix /Makefile,\
	zus fs/zpmfs fs/passthrough fuse tests/posix tests/fsx tests/stress tests/unit tests/crash tests/hostile bench)))
# one phony target per directory: make-zus, make-fs/zpmfs, ...
USER_TARGETS := $(addprefix make-,$(USER_DIRS))

.PHONY: all kernel user $(USER_TARGETS) clean deps test check demo bench vm-shell help \
	fuzz-soak crash-long powercut-long

all: kernel user

kernel:
ifneq ($(HAVE_KMOD),)
	@test -n "$(KDIR)" -a -d "$(KDIR)" || { echo "make: kernel headers not found (KDIR='$(KDIR)'): run 'make deps' or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(KMOD_DIR) modules
else
	@echo "make: kernel/zuf/Kbuild not there yet, zuf.ko not built"
endif

user: $(USER_TARGETS)

$(USER_TARGETS):
	$(MAKE) -C $(patsubst make-%,%,$@)

# plugins, the FUSE bridge, tests and benchmarks may use what zus builds
$(filter-out make-zus,$(USER_TARGETS)): $(filter make-zus,$(USER_TARGETS))
$(filter make-tests/% make-bench,$(USER_TARGETS)): $(filter make-fs/% make-fuse,$(USER_TARGETS))

clean:
ifneq ($(HAVE_KMOD),)
	@if [ -n "$(KDIR)" ] && [ -d "$(KDIR)" ]; then \
		$(MAKE) -C $(KDIR) M=$(KMOD_DIR) clean; \
	else \
		cd $(KMOD_DIR) && rm -rf *.o *.ko *.mod *.mod.c *.mod.o .*.cmd Module.symvers modules.order .tmp_versions; \
	fi
endif
	@for d in $(USER_DIRS); do $(MAKE) -C $$d clean || exit 1; done
	rm -rf $(BUILD)

deps:
	scripts/deps.sh

# `make test`: what CI runs (.ci/run)
test: deps
	$(MAKE) all
	tests/run

check: test

crash-long: user
	CRASH_LONG=1 tests/host/46-crash-explorer.sh

powercut-long: all
	POWERCUT_ROUNDS=$${POWERCUT_ROUNDS:-10} tests/host/48-zpmfs-powercut.sh

demo: deps
	$(MAKE) all
	@if [ -x scripts/demo.sh ]; then scripts/demo.sh; \
	else echo "make demo: scripts/demo.sh does not exist yet" >&2; exit 1; fi

bench: deps
	$(MAKE) all
	@if [ -x bench/run ]; then bench/run $(BENCH_ARGS); \
	else echo "make bench: bench/run does not exist yet" >&2; exit 1; fi

vm-shell: all
	tests/vm/run --shell --pmem 512M $(VM_ARGS)

# tests/fuzz/README.md; e.g. make fuzz-soak FUZZ_MINUTES=60 FUZZ_ARGS="--seed 7"
fuzz-soak: all
	tests/fuzz/soak.sh --minutes $(or $(FUZZ_MINUTES),10) $(FUZZ_ARGS)

help:
	@sed -n '2,18s/^# \{0,1\}//p' Makefile

# ---- installation (README.md "Installing"; paths in mk/install.mk) ----
include mk/install.mk

# the parts that install something, each with install/uninstall targets
INSTALL_DIRS := $(filter zus fs/zpmfs fs/passthrough fuse,$(USER_DIRS))
MAN_PAGES := $(wildcard docs/man/*.[78])
DKMS_SRC := $(dkmsdir)/zufs-$(ZUFS_VERSION)

.PHONY: install uninstall install-dkms uninstall-dkms

install: user
	@for d in $(INSTALL_DIRS); do $(MAKE) -C $$d install || exit 1; done
	$(INSTALL) -d $(DESTDIR)$(mandir)/man7 $(DESTDIR)$(mandir)/man8
	@for m in $(MAN_PAGES); do \
		s=$${m##*.}; echo "$(INSTALL_DATA) $$m $(DESTDIR)$(mandir)/man$$s/"; \
		$(INSTALL_DATA) $$m $(DESTDIR)$(mandir)/man$$s/ || exit 1; done

uninstall:
	@for d in $(INSTALL_DIRS); do $(MAKE) -C $$d uninstall || exit 1; done
	rm -f $(foreach m,$(MAN_PAGES),$(DESTDIR)$(mandir)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	$(call rmdir_empty,$(DESTDIR)$(zufs_plugindir) $(DESTDIR)$(libdir)/zufs)

# zuf.ko's sources laid out as Kbuild expects them (kernel/zuf/Kbuild
# includes $(src)/../../include), plus dkms.conf; then, as root:
#   dkms install zufs/$(ZUFS_VERSION)
install-dkms:
	$(INSTALL) -d $(DESTDIR)$(DKMS_SRC)/kernel/zuf $(DESTDIR)$(DKMS_SRC)/include
	$(INSTALL_DATA) dkms.conf $(DESTDIR)$(DKMS_SRC)/
	$(INSTALL_DATA) kernel/zuf/Kbuild $(filter-out %.mod.c,$(wildcard kernel/zuf/*.[ch])) \
		$(DESTDIR)$(DKMS_SRC)/kernel/zuf/
	$(INSTALL_DATA) include/zufs_api.h $(DESTDIR)$(DKMS_SRC)/include/

# (`dkms remove zufs/VERSION --all` first, if it was added)
uninstall-dkms:
	rm -rf $(DESTDIR)$(DKMS_SRC)

# host/52-dkms with the real `dkms build` for every kernel with headers
# (minutes; make test runs it without the build)
.PHONY: test-dkms
test-dkms: all
	ZUFS_TEST_DKMS=1 tests/run host/52-dkms
