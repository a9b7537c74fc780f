# SPDX-License-Identifier: BSD-3-Clause
# Where `make install` puts things (FHS).  Included by the top Makefile and
# by the sub-Makefiles that install something; only sets variables.
#
#   DESTDIR         staging root prepended to every path (packaging, tests)
#   PREFIX          /usr/local; a distribution package uses PREFIX=/usr
#   sbindir         $(PREFIX)/sbin            zusd, zus-fuse, mkfs.zpmfs, fsck.zpmfs,
#                                             zpmfs-grow
#   libdir          $(PREFIX)/lib             libzus.so.N
#   zufs_plugindir  $(libdir)/zufs/plugins    plugins; zusd's and zus-fuse's
#                                             default (compiled into libzus)
#   includedir      $(PREFIX)/include         zufs/zus.h, zufs/zufs_api.h
#   pkgconfigdir    $(libdir)/pkgconfig       zufs.pc
#   mandir          $(PREFIX)/share/man       man7/zufs.7, man8/*.8
#   dkmsdir         /usr/src                  zufs-VERSION/ (make install-dkms);
#                                             dkms looks there, whatever PREFIX
# All of them may be given on the command line.  PREFIX is compiled into
# libzus (the default plugin directory): `make install PREFIX=...` rebuilds
# what depends on it.

ifndef ZUFS_INSTALL_MK
ZUFS_INSTALL_MK := 1

ZUFS_MK_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
# the package version: one place, dkms.conf, which DKMS needs it in anyway
ZUFS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' \
	$(ZUFS_MK_DIR)../dkms.conf)
# libzus: soname libzus.so.$(LIBZUS_MAJOR); bump the major when a symbol
# of zus/libzus.map changes incompatibly
LIBZUS_MAJOR := 1
LIBZUS_VERSION := $(LIBZUS_MAJOR).0.0

PREFIX ?= /usr/local
sbindir ?= $(PREFIX)/sbin
libdir ?= $(PREFIX)/lib
zufs_plugindir ?= $(libdir)/zufs/plugins
includedir ?= $(PREFIX)/include
pkgconfigdir ?= $(libdir)/pkgconfig
mandir ?= $(PREFIX)/share/man
dkmsdir ?= /usr/src

INSTALL ?= install
INSTALL_PROGRAM ?= $(INSTALL) -m 755
INSTALL_DATA ?= $(INSTALL) -m 644

# uninstall: remove the directories only zufs uses (in order, innermost
# first) when nothing else is left in them; never their parents
rmdir_empty = for d in $(1); do [ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d"; done

endif
