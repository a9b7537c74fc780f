# SPDX-License-Identifier: BSD-3-Clause
# Common settings for the user-space sub-Makefiles.  Include it first, by a
# path relative to the sub-Makefile, e.g. in fs/zpmfs/Makefile:
#
#   include $(dir $(lastword $(MAKEFILE_LIST)))../../mk/common.mk
#
# It only sets variables (no rules, so it cannot clash with yours):
#   TOP        repo root (absolute), computed from this file's path
#   BUILD      $(TOP)/build            every build output goes below it
#   BINDIR     $(BUILD)/bin            programs (zusd, mkfs.zpmfs, ...)
#   PLUGINDIR  $(BUILD)/plugins        zusFS plugins (*.so)
#   LIBDIR     $(BUILD)/lib            static/shared libraries
#   OBJDIR     $(BUILD)/obj/<dir>      suggested object dir of the including
#                                      directory (e.g. build/obj/fs/zpmfs)
#   CC         gcc, unless CC is given (make's built-in "cc" is replaced)
#   CFLAGS     += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -fPIC
#                 -I$(TOP)/include -I$(TOP)/zus/include
#   DEPFLAGS   -MMD -MP: add it to your compile rule and include the
#              dependency files at the end of your Makefile:
#                $(OBJDIR)/%.o: %.c
#                	@mkdir -p $(@D)
#                	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<
#                -include $(OBJS:.o=.d)
#   LDFLAGS    += -L$(LIBDIR)
#   LDLIBS     += -pthread
#   .DEFAULT_GOAL is `all`.

ifndef ZUFS_COMMON_MK
ZUFS_COMMON_MK := 1

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BUILD := $(TOP)/build
BINDIR := $(BUILD)/bin
PLUGINDIR := $(BUILD)/plugins
LIBDIR := $(BUILD)/lib
OBJDIR := $(BUILD)/obj/$(patsubst $(TOP)/%,%,$(abspath $(CURDIR)))

ifeq ($(origin CC),default)
CC := gcc
endif
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -g -fPIC \
	-I$(TOP)/include -I$(TOP)/zus/include
DEPFLAGS := -MMD -MP
LDFLAGS += -L$(LIBDIR)
LDLIBS += -pthread

.DEFAULT_GOAL := all

endif
