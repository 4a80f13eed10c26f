# fixturectl - plain Makefile (STYLE 8).
#   make            build build/fixturectl, build/fxemu (and build/libfx.a,
#                   build/libfxemu.a they link)
#   make deps       install the build packages (scripts/install-deps --build)
#   make check      install what the tests need, then build and run every
#                   test twice: normal and ASan+UBSan, with -Werror; then
#                   the kernel VM tier (make check-kernel)
#   make check-kernel  the kernel VM tier alone (tests/kernel/run-vm)
#   make bench      run the benchmarks under scripts/
#   make help       these lines
#   make clean
# Variants build in their own directory so objects never mix:
#   make VARIANT=asan   -> build/asan/...
# V=1 prints the commands; DEVELOPER=1 (or in config.mak) adds -Werror.

CC ?= cc
PKGS := libusb-1.0 libgpiod sqlite3 inih libelf nettle zlib json-c ncursesw libpq
TEST_PKGS := cmocka
TOOL_PKGS := umockdev-1.0

VARIANT ?= normal
BUILD ?= build
ifeq ($(VARIANT),normal)
B := $(BUILD)
SAN :=
else ifeq ($(VARIANT),asan)
B := $(BUILD)/asan
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(VARIANT),fuzz)
# clang only (make fuzz): coverage for libFuzzer in every object
B := $(BUILD)/fuzz
SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
$(error VARIANT must be normal, asan or fuzz)
endif

ifneq ($(V),1)
Q := @
endif

# Missing packages: say which, never install while the Makefile is read
# (not even for `make -n`). `make deps` installs the build packages
# (scripts/install-deps --build); `make check` installs everything it
# needs as its own first step, so those goals (and clean) read on.
ALL_PKGS := $(PKGS) $(TEST_PKGS) $(TOOL_PKGS)
MISSING := $(shell command -v pkg-config >/dev/null 2>&1 || { echo pkg-config; exit; }; \
	for p in $(ALL_PKGS); do pkg-config --exists $$p || echo $$p; done)
NODEPS_GOALS := clean deps check help
ifneq ($(strip $(MISSING)),)
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
$(error missing build packages (pkg-config): $(strip $(MISSING)); run `make deps` (scripts/install-deps --build) or install them)
endif
endif

# -Werror is for developers and `make check` (git's DEVELOPER=1, libusb
# --werror), not for a user whose newer compiler finds a new warning.
# Put DEVELOPER=1 in config.mak to make it your default.
-include config.mak
WARN := -Wall -Wextra -Wshadow -Wwrite-strings -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition -Wpointer-arith -Wvla \
	-Wformat-security -Wundef -Wswitch-enum -fno-common
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
CFLAGS ?= -O2 -g
FX_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(SAN) \
	-Iinclude $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
FX_LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -lm
TEST_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS) 2>/dev/null) -Itests/lib
TEST_LDLIBS := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)
TOOL_CFLAGS := $(shell pkg-config --cflags $(TOOL_PKGS) 2>/dev/null)
TOOL_LDLIBS := $(shell pkg-config --libs $(TOOL_PKGS) 2>/dev/null)

# Layers (STYLE 1). libfxemu is the emulated G474 bootloader (src/emu)
# with the src/util objects it needs, so it links on its own; libfx is
# every other library layer and links before it (fixturectl, fxemu and the
# tests link both: ... $(LIBFX) $(LIBFXEMU)). src/fxemu is the umockdev
# bridge tool (links umockdev; fixturectl never does). The test library
# tests/lib is libfxtest.
EMU_SRCS := $(wildcard src/emu/*.c src/util/*.c)
LIB_DIRS := usb dfu target image prog gpio serial conf store report seq fleet
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))
CLI_SRCS := $(wildcard src/cli/*.c)
FXEMU_SRCS := $(wildcard src/fxemu/*.c)
FXGADGET_SRCS := $(wildcard src/fxgadget/*.c)
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TEST_SRCS := $(wildcard tests/unit/test_*.c tests/emu/test_*.c tests/usbfs/test_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJS := $(call obj,$(LIB_SRCS))
EMU_OBJS := $(call obj,$(EMU_SRCS))
CLI_OBJS := $(call obj,$(CLI_SRCS))
FXEMU_OBJS := $(call obj,$(FXEMU_SRCS))
FXGADGET_OBJS := $(call obj,$(FXGADGET_SRCS))
TESTLIB_OBJS := $(call obj,$(TESTLIB_SRCS))
TEST_BINS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS))

LIBFX := $(B)/libfx.a
LIBFXEMU := $(B)/libfxemu.a
LIBFXTEST := $(B)/libfxtest.a
LIBS := $(LIBFX) $(LIBFXEMU)
FIXTURECTL := $(B)/fixturectl
FXEMU := $(B)/fxemu
# fxemu's LD_PRELOAD companion (src/fxemu/preload/): a plain shared object,
# never sanitized (it is loaded into dfu-util and the like too)
FXEMU_PRELOAD := $(B)/libfxemu-preload.so
FXGADGET := $(B)/fxgadget
PROGRAMS := $(FIXTURECTL) $(if $(FXEMU_SRCS),$(FXEMU) $(FXEMU_PRELOAD)) $(FXGADGET)

.PHONY: all check test bench clean lint deps help FORCE
all: $(PROGRAMS)

help:
	@echo "make             build $(PROGRAMS) (DEVELOPER=1: -Werror)"
	@echo "make deps        install the build packages (scripts/install-deps --build)"
	@echo "make check       install what the tests need, lint, test normal + asan (-Werror), kernel VM tier"
	@echo "make check-kernel  the kernel VM tier alone: gpio-sim + dummy_hcd in qemu (tests/kernel/run-vm)"
	@echo "make test        build and run the tests of one VARIANT (normal|asan)"
	@echo "make bench       the benchmarks under scripts/"
	@echo "make clean       remove $(BUILD)/"

deps:
	$(Q)scripts/install-deps --build

# Objects are rebuilt when the flags change (DEVELOPER=1 on or off, a new
# CFLAGS), as git does with GIT-CFLAGS: up-to-date objects built without
# -Werror would otherwise let `make check` pass over their warnings.
FLAGS_ID := $(CC) $(FX_CFLAGS) $(CFLAGS) $(TEST_CFLAGS) $(TOOL_CFLAGS)
FLAGS_SH := '$(subst ','\'',$(FLAGS_ID))'
# compared while reading (nothing written), so `make -n` stays exact
ifneq ($(shell echo $(FLAGS_SH) | cmp -s - $(B)/FLAGS 2>/dev/null && echo same),same)
$(B)/FLAGS: FORCE
endif
$(B)/FLAGS:
	@mkdir -p $(dir $@)
	@echo $(FLAGS_SH) > $@

$(B)/obj/%.o: %.c $(B)/FLAGS
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(FX_CFLAGS) $(CFLAGS) $(if $(filter tests/%,$<),$(TEST_CFLAGS)) \
		$(if $(filter src/fxemu/%,$<),$(TOOL_CFLAGS)) -c -o $@ $<

# An archive of its objects (explicit targets: never deleted as
# intermediates, so nothing is rebuilt on the next run).
$(LIBFX): $(LIB_OBJS)
$(LIBFXEMU): $(EMU_OBJS)
$(LIBFXTEST): $(TESTLIB_OBJS)
$(LIBFX) $(LIBFXEMU) $(LIBFXTEST):
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FIXTURECTL): $(CLI_OBJS) $(LIBS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN) -o $@ $(CLI_OBJS) $(LIBS) $(FX_LDLIBS)

$(FXEMU): $(FXEMU_OBJS) $(LIBS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN) -o $@ $(FXEMU_OBJS) $(LIBS) $(FX_LDLIBS) $(TOOL_LDLIBS)

$(FXEMU_PRELOAD): src/fxemu/preload/fxemu_preload.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  SO      $@")
	$(Q)$(CC) $(CFLAGS) -Wall -Wextra -fPIC -shared -o $@ $< -ldl

# fxgadget: boards as real USB gadgets (configfs + FunctionFS; tests/kernel)
$(FXGADGET): $(FXGADGET_OBJS) $(LIBS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN) -o $@ $(FXGADGET_OBJS) $(LIBS) $(FX_LDLIBS)

$(B)/tests/%: tests/%.c $(LIBFXTEST) $(LIBS) $(B)/FLAGS
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(FX_CFLAGS) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(LIBFXTEST) \
		$(LIBS) $(FX_LDLIBS) $(TEST_LDLIBS)

# Fuzzing (issue 8): tests/fuzz/fuzz_*.c are libFuzzer harnesses. Every
# variant also builds each with tests/fuzz/replay.c into a plain program
# that replays its corpus tests/data/fuzz/NAME/ (tests/cli/tfuzz.sh, so
# make check runs them normal and ASan). `make fuzz` builds them with clang
# -fsanitize=fuzzer,address,undefined and runs each FUZZ_SECONDS.
FUZZ_LIB := tests/fuzz/fuzz_util.c
FUZZ_SRCS := $(filter-out $(FUZZ_LIB),$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY_BINS := $(patsubst tests/fuzz/%.c,$(B)/tests/fuzz/%,$(FUZZ_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzzers/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 10

test: $(PROGRAMS) $(TEST_BINS) $(FUZZ_REPLAY_BINS)
	$(Q)scripts/run-tests $(B) $(TEST_BINS)


$(B)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(FUZZ_LIB) tests/fuzz/fuzz_util.h $(LIBFX) $(LIBFXEMU)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@ (replay)")
	$(Q)$(CC) $(FX_CFLAGS) $(CFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_LIB) \
		$(LIBS) $(FX_LDLIBS)

$(B)/fuzzers/%: tests/fuzz/%.c $(FUZZ_LIB) tests/fuzz/fuzz_util.h $(LIBFX) $(LIBFXEMU)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(FX_CFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) \
		$(LIBS) $(FX_LDLIBS)

.PHONY: fuzz fuzz-run
fuzz-run: $(FUZZ_BINS)
	$(Q)sh tests/fuzz/run.sh $(B) $(FUZZ_SECONDS) $(FUZZ_BINS)

fuzz:
	$(Q)$(MAKE) --no-print-directory VARIANT=fuzz CC=clang DEVELOPER=0 fuzz-run

lint:
	$(Q)scripts/check-banned

# check installs what the tests need (build packages and test-only tools:
# dfu-util, chromium, qemu, ...) as its own first step, then builds and
# tests both variants as a developer would (-Werror), then runs the kernel
# VM tier on the normal build (after the variants, not beside them: the
# VM's TCG vCPUs would take the cores the timing-bound tests need). Each
# stage prints how long it took.
STAGE = t=$$(date +%s); $(1) || exit 1; echo "check: $(2) took $$(($$(date +%s) - t)) s"
check: lint
	$(Q)scripts/install-deps
	$(Q)$(call STAGE,$(MAKE) --no-print-directory VARIANT=normal DEVELOPER=1 test,normal variant)
	$(Q)$(call STAGE,$(MAKE) --no-print-directory VARIANT=asan DEVELOPER=1 test,asan variant)
	$(Q)$(call STAGE,$(MAKE) --no-print-directory VARIANT=normal DEVELOPER=1 check-kernel,kernel VM tier)

# the kernel VM tier alone (tests/kernel/run-vm: gpio-sim, dummy_hcd,
# fxgadget; downloads and modules cached in $(BUILD)/kernel). Root for
# the first run (it installs linux-headers); fails naming the reason when
# the machine cannot run it, never skips.
.PHONY: check-kernel
check-kernel: $(FIXTURECTL) $(FXGADGET)
	$(Q)tests/kernel/run-vm $(B) $(BUILD)/kernel

bench: $(FIXTURECTL)
	$(Q)for s in scripts/bench-*; do echo "== $$s"; $$s || exit 1; done

clean:
	rm -rf $(BUILD)

# (build/kernel holds the VM tier's downloads: its *.d are not make's)
-include $(shell find $(BUILD) -path $(BUILD)/kernel -prune -o -name '*.d' -type f -print 2>/dev/null)
