# SPDX-License-Identifier: BSD-3-Clause
# The systemd unit (make install) and the Debian packages (make deb).
# Included by the top Makefile after mk/install.mk.
#
#   make deb        zufs-dkms, zufs-tools and zufs-dev .debs from this tree
#                   (dpkg-buildpackage in build/deb/, then lintian); the
#                   packages it needs come from scripts/deps.sh --deb
#   make test-systemd  host/54-systemd: the .debs installed in a guest
#                   booted with systemd (DKMS build, zusd.service, fstab
#                   mount, restart, purge); minutes, skipped by make test
#
# systemdunitdir: where `make install` puts zusd.service (default
# $(PREFIX)/lib/systemd/system, which systemd searches for /usr/local
# too; the Debian package uses /lib/systemd/system).

systemdunitdir ?= $(PREFIX)/lib/systemd/system
ZUSD_UNIT := $(BUILD)/systemd/zusd.service

.PHONY: install-unit uninstall-unit deb test-systemd
install-packaged: install-unit
uninstall: uninstall-unit

$(ZUSD_UNIT): systemd/zusd.service.in FORCE_UNIT
	@mkdir -p $(@D)
	@sed 's|@sbindir@|$(sbindir)|g' $< > $@.tmp && \
		{ cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@; }

.PHONY: FORCE_UNIT
install-unit: $(ZUSD_UNIT)
	$(INSTALL) -d $(DESTDIR)$(systemdunitdir)
	$(INSTALL_DATA) $(ZUSD_UNIT) $(DESTDIR)$(systemdunitdir)/zusd.service

uninstall-unit:
	rm -f $(DESTDIR)$(systemdunitdir)/zusd.service

DEB_DIR := $(BUILD)/deb
deb:
	scripts/deps.sh --deb
	scripts/mkdeb.sh $(DEB_DIR)

test-systemd: deb
	ZUFS_TEST_SYSTEMD=1 tests/run --timeout 3000 host/54-systemd
