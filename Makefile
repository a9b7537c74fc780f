# SPDX-License-Identifier: BSD-3-Clause
# zufs top-level Makefile.
#
#   make            build zuf.ko for every installed kernel and all user space
#   make kernel     only zuf.ko          make user   only user space
#   make test       make deps + make all + tests/run (+ KERNEL_REACH_TESTS
#                   on every other installed kernel)
#   make deps       install the Debian packages the project needs
#   make demo       scripts/demo.sh      make bench  bench/run
#   make bench-kernels  bench/kernels: the bench on every installed kernel, side by side
#   make vm-shell   interactive root shell in the test VM
#   make fuzz-soak  the ABI fuzzer for FUZZ_MINUTES (10) in a VM (FUZZ_ARGS=)
#   make crash-long the zpmfs crash explorer's long mode (tests/crash)
#   make powercut-long  10 power cuts in a VM (tests/host/48, POWERCUT_ROUNDS)
#   make test-multidev  the device-set tests, the long ones too (vm/66, host/53)
#   make clean      remove all build products (kernel ones too)
#   make install    user space, headers, libzus, man pages (DESTDIR, PREFIX)
#   make uninstall  remove what make install put there (same DESTDIR, PREFIX)
#   make install-dkms / uninstall-dkms   zuf.ko's source for DKMS in /usr/src
#   make test-dkms  build zuf.ko with dkms for every installed kernel
#   make deb        Debian packages (mk/deb.mk)   make test-systemd  host/54
#   make test-ceph  the zceph suites against a throwaway Ceph cluster
#                   (installs the Ceph daemons: scripts/deps.sh --ceph)
#   make bench-ceph bench/ceph: zceph over zuf and the bridge, ceph-fuse
#                   and the kernel client on one cluster in one VM boot
#
# KVER: the kernel to build for and test on, a release or its start
#       (KVER=6.12, KVER=6.1; scripts/kver.sh), default the newest installed
#       one; its zuf.ko is kernel/zuf/zuf.ko.  Every other installed kernel
#       gets build/kmod/RELEASE/zuf.ko, which tests/vm/run --kernel uses.
# KDIR: a kernel build dir instead of KVER's (builds only that one).
# ZUFS_KERNELS: the kernel series `make deps` installs (default "6.1 6.12").

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build
.DEFAULT_GOAL := all

# what the caller asked for (`make deps` may install kernels, so targets
# after it run in a new make that looks again, with only this passed on)
KVER_GIVEN := $(if $(filter undefined,$(origin KVER)),,$(KVER))
AFTER_DEPS = $(if $(KVER_GIVEN),KVER=$(KVER_GIVEN),env -u KVER) $(MAKE)
KERNELS := $(shell $(TOP)/scripts/kver.sh --all 2>/dev/null)
ifdef KDIR
OTHER_KERNELS :=
# the VM boots the kernel KDIR belongs to (tests/vm/run reads $KVER)
ifneq ($(filter /lib/modules/%/build,$(KDIR)),)
override KVER := $(patsubst /lib/modules/%/build,%,$(KDIR))
endif
else
ifdef KVER
override KVER := $(shell $(TOP)/scripts/kver.sh $(KVER))
ifeq ($(KVER),)
$(error no installed kernel matches KVER (see above))
endif
else
KVER := $(lastword $(KERNELS))
endif
KDIR := $(if $(KVER),/lib/modules/$(KVER)/build)
OTHER_KERNELS := $(filter-out $(KVER),$(KERNELS))
endif
export KVER

KMOD_DIR := $(TOP)/kernel/zuf
HAVE_KMOD := $(wildcard $(KMOD_DIR)/Kbuild)

# user-space parts, in dependency order; each one only if it has a Makefile
USER_DIRS := $(patsubst %/Makefile,%,$(wildcard $(addsuffix /Makefile,\
	zus fs/zpmfs fs/passthrough fs/ceph fuse tests/posix tests/fsx tests/stress tests/unit tests/crash tests/hostile bench)))
# one phony target per directory: make-zus, make-fs/zpmfs, ...
USER_TARGETS := $(addprefix make-,$(USER_DIRS))

.PHONY: all kernel kmods user $(USER_TARGETS) clean deps test test-run check demo bench bench-kernels vm-shell help \
	fuzz-soak crash-long powercut-long test-multidev test-ceph test-ceph-run bench-ceph

all: kernel kmods user

kernel:
ifneq ($(HAVE_KMOD),)
	@test -n "$(KDIR)" -a -d "$(KDIR)" || { echo "make: kernel headers not found (KDIR='$(KDIR)'): run 'make deps' or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(KMOD_DIR) modules
else
	@echo "make: kernel/zuf/Kbuild not there yet, zuf.ko not built"
endif

# zuf.ko for every other installed kernel, built out of links to kernel/zuf
# (a kernel's Kbuild writes its objects next to the sources)
KMOD_SRCS = Kbuild probe.sh $(filter-out %.mod.c,$(notdir $(wildcard $(KMOD_DIR)/*.[ch])))
kmods:
ifneq ($(HAVE_KMOD),)
	@set -e; for v in $(OTHER_KERNELS); do \
		d=$(BUILD)/kmod/$$v; mkdir -p $$d; \
		find $$d -maxdepth 1 -type l -delete; \
		for f in $(KMOD_SRCS); do ln -s $(KMOD_DIR)/$$f $$d/$$f; done; \
		echo "make: zuf.ko for $$v in $${d#$(TOP)/}"; \
		$(MAKE) -C /lib/modules/$$v/build M=$$d ZUFS_INCLUDE=$(TOP)/include modules; \
	done
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

# VM cases that reach kernel code that differs between kernels (compat.h:
# mount, inode, ACL, xattr and time ops, DAX faults, page-cache writeback,
# splice and copy_file_range, the server's channel and pmem mappings):
# `make test` runs them on every installed kernel besides the one the
# whole suite runs on.  (The whole suite passes on both; these keep CI
# under its time budget.)
# (vm/55-passthrough, 5 min on 6.12 here, is left to `tests/run --kernel`:
# vm/53-cache and vm/60-hostile cover the old-IO paths compat.h touches.)
KERNEL_REACH_TESTS := vm/00-boot vm/10-module vm/40-mount vm/50-namespace \
	vm/52-mmap vm/53-cache vm/59-caps vm/60-hostile vm/62-reflink

# `make test`: what CI runs (.ci/run)
test: deps
	$(AFTER_DEPS) all test-run

# The whole suite runs on KVER when the caller names it, else on the oldest
# installed kernel (Debian 12's own 6.1 here: what the features were built
# and measured on); the kernel-reach cases run on each of the others.
TEST_KVER := $(or $(KVER_GIVEN),$(firstword $(KERNELS)))
test-run:
	@rc=0; tests/run $(if $(TEST_KVER),--kernel $(TEST_KVER)) || rc=1; \
	for v in $(filter-out $(TEST_KVER),$(KERNELS)); do \
		echo "== the kernel-reach VM tests on $$v"; \
		tests/run --kernel $$v --vm-only $(KERNEL_REACH_TESTS) || rc=1; \
	done; exit $$rc

check: test

# zceph (fs/ceph): the bridge suites, two clients, faults (tests/ceph/run,
# one 3-OSD cluster on the host) and zceph through zuf.ko (vm/70 the
# namespace groups, two mounts, zfsx, zstress, a zusd restart; vm/72 an
# OSD killed and the MDS restarted under load; vm/73 the rest of
# posix-test; each starts a cluster inside its guest, ~100 s; README
# "zceph" has their times).
# `make test` runs none of host/70, vm/70, vm/72, vm/73.
test-ceph:
	ZUFS_CEPH=1 scripts/deps.sh
	$(AFTER_DEPS) all test-ceph-run

# host/70 and vm/7[023] take minutes (a cluster in a TCG guest): make
# test skips them unless ZUFS_TEST_CEPH=1
test-ceph-run:
	@rc=0; tests/ceph/run || rc=1; \
	ZUFS_TEST_CEPH=1 tests/run $(if $(TEST_KVER),--kernel $(TEST_KVER)) \
		host/70-ceph vm/70-ceph vm/72-ceph vm/73-ceph || rc=1; exit $$rc

bench-ceph: all
	ZUFS_CEPH=1 scripts/deps.sh
	bench/ceph/run

crash-long: user
	CRASH_LONG=1 tests/host/46-crash-explorer.sh

powercut-long: all
	POWERCUT_ROUNDS=$${POWERCUT_ROUNDS:-10} tests/host/48-zpmfs-powercut.sh

# vm/66-multidev-numa (a node's member filling up and spilling over) and
# host/53-multidev-reboot (a set of two nvdimms across a reboot) take
# minutes each under TCG: they skip in `make test` unless this asks for
# them; vm/65-multidev (assembly, refusals, fsck, placement) always runs.
test-multidev: all
	ZUFS_TEST_MULTIDEV=1 tests/run $(if $(TEST_KVER),--kernel $(TEST_KVER)) \
		vm/65-multidev vm/66-multidev-numa host/53-multidev-reboot

demo: deps
	$(MAKE) all
	@if [ -x scripts/demo.sh ]; then scripts/demo.sh; \
	else echo "make demo: scripts/demo.sh does not exist yet" >&2; exit 1; fi

bench: deps
	$(AFTER_DEPS) all
	@if [ -x bench/run ]; then bench/run $(BENCH_ARGS); \
	else echo "make bench: bench/run does not exist yet" >&2; exit 1; fi

bench-kernels: deps
	$(AFTER_DEPS) all
	bench/kernels $(BENCH_ARGS)

vm-shell: all
	tests/vm/run --shell --pmem 512M $(VM_ARGS)

# tests/fuzz/README.md; e.g. make fuzz-soak FUZZ_MINUTES=60 FUZZ_ARGS="--seed 7"
fuzz-soak: all
	tests/fuzz/soak.sh --minutes $(or $(FUZZ_MINUTES),10) $(FUZZ_ARGS)

help:
	@sed -n '2,25s/^# \{0,1\}//p' Makefile

# ---- installation (README.md "Installing"; paths in mk/install.mk) ----
include mk/install.mk

# the parts that install something, each with install/uninstall targets
INSTALL_DIRS := $(filter zus fs/zpmfs fs/passthrough fuse,$(USER_DIRS))
MAN_PAGES := $(wildcard docs/man/*.[78])
DKMS_SRC := $(dkmsdir)/zufs-$(ZUFS_VERSION)

.PHONY: install install-packaged uninstall install-dkms uninstall-dkms

install: user install-packaged
# only the parts that install something (what debian/rules builds)
install-packaged: $(addprefix make-,$(INSTALL_DIRS))
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
	$(INSTALL_DATA) kernel/zuf/Kbuild kernel/zuf/probe.sh \
		$(filter-out %.mod.c,$(wildcard kernel/zuf/*.[ch])) \
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
include mk/deb.mk
