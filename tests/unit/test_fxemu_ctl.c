/* test_fxemu_ctl.c - fxemu's pin control socket (src/fxemu/ctl.c, served
 * here on a bed without a testbed: the pins reach the board model, no
 * USB) and the station side that talks to it (src/gpio/gpio_fxemu.c):
 * every reply of the line protocol, pins applied to the board, the
 * client's errors with code and message, sim outputs forwarded through
 * fx_gpio_sim_attach_remote and the hook rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fx/clock.h"
#include "fx/emu.h"
#include "fx/gpio.h"
/* the control channel is private to build/fxemu: test it in place */
#include "../../src/fxemu/ctl.c"

struct fixture {
	struct fx_vclock clk;
	struct fxe_bed bed;
	char dir[64];
};

static int setup(void **state)
{
	static struct fixture f;
	struct fx_emu_identity id = { .uid = { 1, 2, 3 }, .app_vid = 0x1209,
				      .app_pid = 0x0001 };
	struct fx_err err;

	memset(&f, 0, sizeof(f));
	fx_vclock_init(&f.clk);
	snprintf(f.dir, sizeof(f.dir), "/tmp/fxctl-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	pthread_mutex_init(&f.bed.lock, NULL);
	pthread_cond_init(&f.bed.cond, NULL);
	f.bed.clock = &f.clk.base;
	f.bed.ctl_fd = f.bed.ctl_wake[0] = f.bed.ctl_wake[1] = -1;
	snprintf(f.bed.root, sizeof(f.bed.root), "%s", f.dir);
	f.bed.boards[0].bed = &f.bed;
	f.bed.boards[0].port = 1;
	f.bed.boards[0].emu = fx_emu_new(&id, &f.clk.base, &err);
	if (!f.bed.boards[0].emu)
		return -1;
	f.bed.nboards = 1;
	fx_err_clear(&err);
	if (fxe_ctl_start(&f.bed, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	unsetenv(FX_GPIO_FXEMU_ENV);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fxe_ctl_stop(&f->bed);
	fx_emu_free(f->bed.boards[0].emu);
	pthread_cond_destroy(&f->bed.cond);
	pthread_mutex_destroy(&f->bed.lock);
	rmdir(f->dir);
	return 0;
}

static int dial(const struct fixture *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_true(strlen(f->bed.ctl_path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, f->bed.ctl_path, strlen(f->bed.ctl_path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Send req (with its newline) on fd, return the answer line. */
static const char *ask(int fd, const char *req)
{
	static char ans[512];
	size_t n = 0;

	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (n < sizeof(ans) - 1) {
		ssize_t got = read(fd, ans + n, 1);

		if (got <= 0)
			break;
		if (ans[n] == '\n')
			break;
		n++;
	}
	ans[n] = '\0';
	return ans;
}

static void test_ctl_path(void **state)
{
	struct fixture *f = *state;
	char want[128];

	snprintf(want, sizeof(want), "%s/ctl", f->dir);
	assert_string_equal(f->bed.ctl_path, want);
	assert_int_equal(access(want, F_OK), 0);
}

static void test_protocol_errors(void **state)
{
	struct fixture *f = *state;
	int fd = dial(f);

	assert_string_equal(ask(fd, "bogus 1-1\n"),
			    "err unknown request 'bogus' (expected pin, pins or state)");
	assert_string_equal(ask(fd, "\n"),
			    "err unknown request '' (expected pin, pins or state)");
	assert_string_equal(ask(fd, "pin\n"), "err pin: expected a port (1-1 .. 1-1)");
	assert_string_equal(ask(fd, "state\n"), "err state: expected a port (1-1 .. 1-1)");
	assert_string_equal(ask(fd, "pin 1-2 nrst 1\n"),
			    "err port '1-2': no board there (ports 1-1 .. 1-1)");
	assert_string_equal(ask(fd, "pin 2-1 nrst 1\n"),
			    "err port '2-1': no board there (ports 1-1 .. 1-1)");
	assert_string_equal(ask(fd, "pin 1-1x nrst 1\n"),
			    "err port '1-1x': no board there (ports 1-1 .. 1-1)");
	assert_string_equal(ask(fd, "pin 1-1 reset 1\n"),
			    "err pin 'reset': expected boot0, nrst or power");
	assert_string_equal(ask(fd, "pin 1-1 nrst 2\n"),
			    "err pin: expected 'pin PORT boot0|nrst|power 0|1'");
	assert_string_equal(ask(fd, "pin 1-1 nrst\n"),
			    "err pin: expected 'pin PORT boot0|nrst|power 0|1'");
	assert_string_equal(ask(fd, "pin 1-1 nrst 1 extra\n"),
			    "err pin: expected 'pin PORT boot0|nrst|power 0|1'");
	assert_string_equal(ask(fd, "state 1-1 extra\n"), "err state: expected 'state PORT'");
	assert_string_equal(ask(fd, "pins\n"), "err pins: expected a port (1-1 .. 1-1)");
	assert_string_equal(ask(fd, "pins 1-1 x\n"), "err pins: expected 'pins PORT'");
	assert_string_equal(ask(fd, "pins 1-3\n"),
			    "err port '1-3': no board there (ports 1-1 .. 1-1)");
	/* the connection survives errors; CRLF is fine */
	assert_string_equal(ask(fd, "state 1-1\r\n"), "ok none plugs 0");
	close(fd);
}

static void test_pins_reach_the_board(void **state)
{
	struct fixture *f = *state;
	struct fx_emu *e = f->bed.boards[0].emu;
	unsigned k0 = f->bed.kicks;
	int fd = dial(f);

	/* two requests in one write: two answers, in order */
	assert_string_equal(ask(fd, "pin 1-1 boot0 1\npin 1-1 nrst 1\n"), "ok");
	assert_string_equal(ask(fd, ""), "ok");
	assert_true(fx_emu_get_boot0(e));
	assert_string_equal(ask(fd, "pin 1-1 power 1\n"), "ok");
	assert_int_equal(f->bed.kicks, k0 + 3); /* the bridge thread re-plans */
	fx_clock_sleep(&f->clk.base, 1000000); /* boot delay */
	assert_int_equal(fx_emu_poll(e), FX_EMU_BUS_DFU);
	assert_string_equal(ask(fd, "pin 1-1 nrst 0\n"), "ok");
	assert_int_equal(fx_emu_poll(e), FX_EMU_BUS_NONE); /* held in reset */
	assert_string_equal(ask(fd, "pin 1-1 boot0 0\n"), "ok");
	assert_false(fx_emu_get_boot0(e));
	assert_string_equal(ask(fd, "pin 1-1 nrst 1\n"), "ok");
	fx_clock_sleep(&f->clk.base, 1000000);
	/* blank flash, BOOT0 low: nothing runs */
	assert_int_equal(fx_emu_poll(e), FX_EMU_BUS_NONE);
	assert_string_equal(ask(fd, "pin 1-1 power 0\n"), "ok");
	/* read back: BOOT0 from the board, NRST/POWER as last driven */
	assert_string_equal(ask(fd, "pins 1-1\n"), "ok boot0 0 nrst 1 power 0");
	assert_string_equal(ask(fd, "pin 1-1 nrst 0\npin 1-1 boot0 1\n"), "ok");
	assert_string_equal(ask(fd, ""), "ok");
	assert_string_equal(ask(fd, "pins 1-1\n"), "ok boot0 1 nrst 0 power 0");
	close(fd);
}

/* fxe_ctl_request (fxemu --ctl): one request, its answer line */
static void test_ctl_request(void **state)
{
	struct fixture *f = *state;
	char ans[64], small[8], path[200];
	struct fx_err err;

	fx_err_clear(&err);
	assert_int_equal(fxe_ctl_request(f->bed.ctl_path, "pins 1-1", ans, sizeof(ans),
					 &err), 0);
	assert_string_equal(ans, "ok boot0 0 nrst 1 power 1"); /* as the bed left them */
	assert_int_equal(fxe_ctl_request(f->bed.ctl_path, "pin 1-1 power 0", ans,
					 sizeof(ans), &err), 0);
	assert_string_equal(ans, "ok");
	assert_int_equal(fxe_ctl_request(f->bed.ctl_path, "pins 1-9", ans, sizeof(ans),
					 &err), 0);
	assert_string_equal(ans, "err port '1-9': no board there (ports 1-1 .. 1-1)");
	/* a short buffer gets the start of the answer */
	assert_int_equal(fxe_ctl_request(f->bed.ctl_path, "pins 1-1", small, sizeof(small),
					 &err), 0);
	assert_string_equal(small, "ok boot");
	assert_int_equal(fxe_ctl_request(f->bed.ctl_path, "pins 1-1\npins 1-1", ans,
					 sizeof(ans), &err), FX_E_INVAL);
	snprintf(path, sizeof(path), "%s/nothing", f->dir);
	assert_int_equal(fxe_ctl_request(path, "pins 1-1", ans, sizeof(ans), &err), FX_E_IO);
	assert_non_null(strstr(err.msg, "No such file or directory"));
}

static void test_state(void **state)
{
	struct fixture *f = *state;
	struct fxe_board *b = &f->bed.boards[0];
	int fd = dial(f), fd2 = dial(f);
	char dummy;

	assert_string_equal(ask(fd, "state 1-1\n"), "ok none plugs 0");
	b->cur = (struct fxe_dev *)(void *)&dummy; /* only compared */
	b->cur_vid = 0x0483;
	b->cur_pid = 0xdf11;
	b->plugs = 3;
	/* a second client at the same time */
	assert_string_equal(ask(fd2, "state 1-1\n"), "ok 0483:df11 plugs 3");
	assert_string_equal(ask(fd, "state 1-1\n"), "ok 0483:df11 plugs 3");
	b->cur = NULL;
	b->plugs = 0;
	close(fd2);
	close(fd);
}

static void test_long_line_drops_the_client(void **state)
{
	struct fixture *f = *state;
	char big[400], c;
	int fd = dial(f);

	memset(big, 'x', sizeof(big));
	assert_int_equal(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
	/* closed without an answer (reset: our extra bytes were unread) */
	assert_true(read(fd, &c, 1) <= 0);
	close(fd);
	fd = dial(f); /* the server goes on */
	assert_string_equal(ask(fd, "state 1-1\n"), "ok none plugs 0");
	close(fd);
}

/* ---- the station side: src/gpio/gpio_fxemu.c ---- */

static void test_client_pin(void **state)
{
	struct fixture *f = *state;
	struct fx_emu *e = f->bed.boards[0].emu;
	struct fx_err err;

	fx_err_clear(&err);
	assert_int_equal(fx_gpio_fxemu_pin(f->bed.ctl_path, "1-1", FX_GPIO_SIM_PIN_BOOT0,
					   1, &err), 0);
	assert_true(fx_emu_get_boot0(e));
	setenv(FX_GPIO_FXEMU_ENV, f->bed.ctl_path, 1);
	assert_int_equal(fx_gpio_fxemu_pin(NULL, "1-1", FX_GPIO_SIM_PIN_BOOT0, 0, &err), 0);
	assert_false(fx_emu_get_boot0(e));
	unsetenv(FX_GPIO_FXEMU_ENV);

	assert_int_equal(fx_gpio_fxemu_pin(f->bed.ctl_path, "1-2", FX_GPIO_SIM_PIN_NRST,
					   1, &err), FX_E_GPIO);
	assert_string_equal(err.msg, "fxemu: port '1-2' nrst: port '1-2': no board there "
			    "(ports 1-1 .. 1-1)");
}

static void test_client_errors(void **state)
{
	struct fixture *f = *state;
	char path[128];
	struct fx_err err;

	(void)f;
	fx_err_clear(&err);
	assert_int_equal(fx_gpio_fxemu_pin(NULL, "1-1", FX_GPIO_SIM_PIN_NRST, 1, &err),
			 FX_E_CONFIG);
	assert_string_equal(err.msg, "FXEMU_CTL is not set: run the station under "
			    "build/fxemu (fxemu --board FILE -- fixturectl run ...)");
	snprintf(path, sizeof(path), "%s/none", f->dir);
	fx_err_clear(&err);
	assert_int_equal(fx_gpio_fxemu_pin(path, "1-1", FX_GPIO_SIM_PIN_NRST, 1, &err),
			 FX_E_IO);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_true(strstr(err.msg, "': connect: No such file or directory") != NULL);
	assert_int_equal(strncmp(err.msg, "fxemu control socket '/tmp/fxctl-", 33), 0);
	assert_int_equal(fx_gpio_fxemu_pin(path, "1-1", (enum fx_gpio_sim_pin)9, 1, &err),
			 FX_E_INVAL);
	assert_string_equal(err.msg, "fxemu pin: bad port or pin 9");
}

static void test_sim_forwarding(void **state)
{
	struct fixture *f = *state;
	struct fx_emu *e = f->bed.boards[0].emu;
	struct fx_gpio_line_cfg out = { .name = "sim:BOOT0_1", .dir = FX_GPIO_OUTPUT,
					.initial = 1 };
	struct fx_gpio_line_cfg in = { .name = "sim:START", .dir = FX_GPIO_INPUT };
	struct fx_gpio_line *l, *start;
	struct fx_gpio *g;
	struct fx_err err;

	fx_err_clear(&err);
	assert_int_equal(fx_gpio_open("sim", &f->clk.base, &g, &err), 0);
	assert_int_equal(fx_gpio_request(g, &out, &l, &err), 0);
	assert_false(fx_emu_get_boot0(e));
	/* attaching sends the current level at once */
	assert_int_equal(fx_gpio_sim_attach_remote(g, "sim:BOOT0_1", f->bed.ctl_path, "1-1",
						   FX_GPIO_SIM_PIN_BOOT0, &err), 0);
	assert_true(fx_emu_get_boot0(e));
	assert_int_equal(fx_gpio_set(l, 0, &err), 0);
	assert_false(fx_emu_get_boot0(e));
	assert_int_equal(fx_gpio_set(l, 1, &err), 0);
	assert_true(fx_emu_get_boot0(e));
	/* a hooked line drives a pin: no input use */
	assert_int_equal(fx_gpio_sim_drive(g, "sim:BOOT0_1", 1, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:BOOT0_1': is an output, cannot drive it");
	assert_int_equal(fx_gpio_sim_attach_remote(g, "sim:NRST_1", f->bed.ctl_path, "1-1",
						   FX_GPIO_SIM_PIN_NRST, &err), 0);
	in.dir = FX_GPIO_INPUT;
	snprintf(in.name, sizeof(in.name), "sim:NRST_1");
	assert_int_equal(fx_gpio_request(g, &in, &start, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:NRST_1': drives a board pin, cannot be an input");
	assert_int_equal(fx_gpio_sim_drive(g, "sim:NRST_1", 1, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:NRST_1': drives a board pin");

	/* a port fxemu does not have: the attach and every set fail */
	assert_int_equal(fx_gpio_sim_attach_remote(g, "sim:BOOT0_1", f->bed.ctl_path, "1-5",
						   FX_GPIO_SIM_PIN_BOOT0, &err), FX_E_GPIO);
	assert_string_equal(err.msg, "fxemu: port '1-5' boot0: port '1-5': no board there "
			    "(ports 1-1 .. 1-1)");
	assert_int_equal(fx_gpio_set(l, 0, &err), FX_E_GPIO);
	assert_true(fx_emu_get_boot0(e)); /* untouched */
	/* removing the hook: sets stay local */
	assert_int_equal(fx_gpio_sim_hook(g, "sim:BOOT0_1", NULL, NULL, NULL, &err), 0);
	assert_int_equal(fx_gpio_set(l, 0, &err), 0);
	assert_true(fx_emu_get_boot0(e));

	/* FXEMU_CTL missing */
	assert_int_equal(fx_gpio_sim_attach_remote(g, "sim:POWER_1", NULL, "1-1",
						   FX_GPIO_SIM_PIN_POWER, &err), FX_E_CONFIG);
	assert_string_equal(err.msg, "line 'sim:POWER_1': FXEMU_CTL is not set: run the "
			    "station under build/fxemu (fxemu --board FILE -- fixturectl run ...)");
	/* inputs cannot be hooked (the user data is freed all the same) */
	snprintf(in.name, sizeof(in.name), "sim:START");
	assert_int_equal(fx_gpio_request(g, &in, &start, &err), 0);
	assert_int_equal(fx_gpio_sim_attach_remote(g, "sim:START", f->bed.ctl_path, "1-1",
						   FX_GPIO_SIM_PIN_POWER, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:START': is an input, cannot be hooked");
	assert_int_equal(fx_gpio_sim_attach_remote(g, "sim:X", f->bed.ctl_path, "1-1",
						   (enum fx_gpio_sim_pin)0, &err), FX_E_INVAL);
	assert_string_equal(err.msg, "line 'sim:X': unknown board pin 0");
	/* close frees the hooks still held (ASan: no leak) */
	fx_gpio_close(g);
}

static void test_hook_needs_sim(void **state)
{
	struct fixture *f = *state;
	struct fx_gpio *g;
	struct fx_err err;

	fx_err_clear(&err);
	assert_int_equal(fx_gpio_open("gpiod", &f->clk.base, &g, &err), 0);
	assert_int_equal(fx_gpio_sim_attach_remote(g, "sim:B", f->bed.ctl_path, "1-1",
						   FX_GPIO_SIM_PIN_BOOT0, &err), FX_E_NOTSUP);
	assert_string_equal(err.msg, "not an emulated (sim) gpio instance");
	fx_gpio_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ctl_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pins_reach_the_board, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_drops_the_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sim_forwarding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hook_needs_sim, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
