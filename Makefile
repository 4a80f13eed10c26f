# fixturectl - plain Makefile (STYLE 8).
#   make            build build/fixturectl, build/fxemu, build/libfxemu.a
#   make check      build and run every test twice: normal and ASan+UBSan
#   make bench      run the benchmarks under scripts/
#   make clean
# Variants build in their own directory so objects never mix:
#   make VARIANT=asan   -> build/asan/...
# V=1 prints the commands.

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
else
$(error VARIANT must be normal or asan)
endif

ifneq ($(V),1)
Q := @
endif

# Missing build dependencies: install them (scripts/install-deps), then go on.
DEPS_OK := $(shell command -v pkg-config >/dev/null 2>&1 && pkg-config --exists $(PKGS) $(TEST_PKGS) $(TOOL_PKGS) && echo yes)
ifneq ($(DEPS_OK),yes)
ifneq ($(MAKECMDGOALS),clean)
$(info fixturectl: build dependencies missing, running scripts/install-deps)
DEPS_RC := $(shell scripts/install-deps --build >&2; echo $$?)
ifneq ($(DEPS_RC),0)
$(error scripts/install-deps failed (exit $(DEPS_RC)); install the packages it names and retry)
endif
endif
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wwrite-strings -Wstrict-prototypes \
	-Wmissing-prototypes -Wold-style-definition -Wpointer-arith -Wvla \
	-Wformat-security -Wundef -Wswitch-enum -fno-common
CFLAGS ?= -O2 -g
FX_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(SAN) \
	-Iinclude $(shell pkg-config --cflags $(PKGS)) -MMD -MP
FX_LDLIBS := $(shell pkg-config --libs $(PKGS)) -lm
TEST_CFLAGS := $(shell pkg-config --cflags $(TEST_PKGS)) -Itests/lib
TEST_LDLIBS := $(shell pkg-config --libs $(TEST_PKGS))
TOOL_CFLAGS := $(shell pkg-config --cflags $(TOOL_PKGS))
TOOL_LDLIBS := $(shell pkg-config --libs $(TOOL_PKGS))

# Layers (STYLE 1). src/emu is libfxemu; src/fxemu is the umockdev bridge
# tool (links umockdev; fixturectl never does).
LIB_DIRS := util usb dfu target image prog gpio conf store report seq
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))
EMU_SRCS := $(wildcard src/emu/*.c) src/util/err.c src/util/clock.c src/util/bytes.c src/util/log.c src/util/file.c
CLI_SRCS := $(wildcard src/cli/*.c)
FXEMU_SRCS := $(wildcard src/fxemu/*.c)
FXGADGET_SRCS := $(wildcard src/fxgadget/*.c)
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TEST_SRCS := $(wildcard tests/unit/test_*.c tests/emu/test_*.c tests/usbfs/test_*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJS := $(call obj,$(LIB_SRCS))
EMU_OBJS := $(call obj,$(wildcard src/emu/*.c))
CLI_OBJS := $(call obj,$(CLI_SRCS))
FXEMU_OBJS := $(call obj,$(FXEMU_SRCS))
FXGADGET_OBJS := $(call obj,$(FXGADGET_SRCS))
TESTLIB_OBJS := $(call obj,$(TESTLIB_SRCS))
TEST_BINS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS))

LIBFX := $(B)/libfx.a
LIBFXEMU := $(B)/libfxemu.a
FIXTURECTL := $(B)/fixturectl
FXEMU := $(B)/fxemu
FXGADGET := $(B)/fxgadget

.PHONY: all check check-normal check-asan check-kernel test bench clean lint
all: $(FIXTURECTL) $(LIBFXEMU) $(if $(FXEMU_SRCS),$(FXEMU)) $(FXGADGET)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(FX_CFLAGS) $(CFLAGS) $(if $(filter tests/%,$<),$(TEST_CFLAGS)) \
		$(if $(filter src/fxemu/%,$<),$(TOOL_CFLAGS)) -c -o $@ $<

$(LIBFX): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# libfxemu carries the util objects it needs so it links on its own.
$(LIBFXEMU): $(EMU_OBJS) $(call obj,src/util/err.c src/util/clock.c src/util/bytes.c src/util/log.c src/util/file.c)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FIXTURECTL): $(CLI_OBJS) $(LIBFX) $(LIBFXEMU)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN) -o $@ $(CLI_OBJS) $(EMU_OBJS) $(LIBFX) $(FX_LDLIBS)

$(FXEMU): $(FXEMU_OBJS) $(LIBFX) $(LIBFXEMU)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN) -o $@ $(FXEMU_OBJS) $(EMU_OBJS) $(LIBFX) $(FX_LDLIBS) $(TOOL_LDLIBS)

# fxgadget: boards as real USB gadgets (configfs + FunctionFS; tests/kernel)
$(FXGADGET): $(FXGADGET_OBJS) $(LIBFXEMU)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN) -o $@ $(FXGADGET_OBJS) $(EMU_OBJS) $(LIBFX) $(FX_LDLIBS)

$(B)/tests/%: tests/%.c $(TESTLIB_OBJS) $(LIBFX) $(LIBFXEMU)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(FX_CFLAGS) $(CFLAGS) $(TEST_CFLAGS) -o $@ $< $(TESTLIB_OBJS) \
		$(EMU_OBJS) $(LIBFX) $(FX_LDLIBS) $(TEST_LDLIBS)

test: $(FIXTURECTL) $(LIBFXEMU) $(if $(FXEMU_SRCS),$(FXEMU)) $(TEST_BINS)
	$(Q)scripts/run-tests $(B) $(TEST_BINS)

lint:
	$(Q)scripts/check-banned

# check also installs the test-only tools (dfu-util, chromium) when missing
check: lint
	$(Q)scripts/install-deps
	$(Q)$(MAKE) --no-print-directory VARIANT=normal test
	$(Q)$(MAKE) --no-print-directory VARIANT=asan test

# the kernel VM tier (tests/kernel/run-vm: gpio-sim, dummy_hcd, fxgadget)
check-kernel: $(FIXTURECTL) $(FXGADGET)
	$(Q)tests/kernel/run-vm $(BUILD)

bench: $(FIXTURECTL)
	$(Q)for s in scripts/bench-*; do echo "== $$s"; $$s || exit 1; done

clean:
	rm -rf $(BUILD)

# (build/kernel holds the VM tier's downloads: its *.d are not make's)
-include $(shell find $(BUILD) -path $(BUILD)/kernel -prune -o -name '*.d' -type f -print 2>/dev/null)
