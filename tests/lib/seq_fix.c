/* seq_fix.c - the station fixture of the sequence tests (seq_fix.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "conf_fix.h"
#include "seq_fix.h"

const uint8_t fxt_seq_vectors[8] = { 0x00, 0x00, 0x02, 0x20, 0xC1, 0x01, 0x00, 0x08 };

void fxt_seq_init(struct fxt_seq *f, const char *tmpl)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(fxt_conf_mkdir(f->dir, sizeof(f->dir), tmpl), 0);
	snprintf(f->db, sizeof(f->db), "%s/station.db", f->dir);
	snprintf(f->fw, sizeof(f->fw), "%s/fw.bin", f->dir);
	snprintf(f->board, sizeof(f->board), "%s/board.fxb", f->dir);
	fx_vclock_init(&f->vc);
	fx_err_clear(&f->err);
}

void fxt_seq_firmware(struct fxt_seq *f, uint32_t seed, const uint8_t vt[8])
{
	uint32_t x = seed;
	size_t i;

	for (i = 0; i < FXT_SEQ_FW_LEN; i++) {
		x = x * 1103515245u + 12345u;
		f->fw_data[i] = (uint8_t)(x >> 16);
	}
	if (vt)
		memcpy(f->fw_data, vt, 8);
	fxt_conf_write_bytes(f->fw, (const char *)f->fw_data, FXT_SEQ_FW_LEN);
	f->seg.addr = 0x08000000u;
	f->seg.len = FXT_SEQ_FW_LEN;
	f->seg.data = f->fw_data;
	f->img.format = FX_IMAGE_BIN;
	f->img.nsegs = 1;
	f->img.segs = &f->seg;
	assert_int_equal(fx_conf_sha256_file(f->fw, f->rcp.firmware_sha256, &f->err), 0);
}

void fxt_seq_recipe(struct fxt_seq *f, const char *name, const char *version)
{
	struct fx_recipe *r = &f->rcp;
	char sha[sizeof(r->firmware_sha256)];

	memcpy(sha, r->firmware_sha256, sizeof(sha)); /* fxt_seq_firmware's */
	fx_recipe_defaults(r);
	memcpy(r->firmware_sha256, sha, sizeof(sha));
	snprintf(r->path, sizeof(r->path), "%s/recipe.ini", f->dir);
	memset(r->sha256, 'a', 64);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->version, sizeof(r->version), "%s", version);
	snprintf(r->target, sizeof(r->target), "stm32g474xe");
	snprintf(r->firmware, sizeof(r->firmware), "%s", f->fw);
	r->n_ob = 1;
	snprintf(r->ob[0].name, sizeof(r->ob[0].name), "DBANK");
	r->ob[0].value = 0;
	snprintf(r->ob[0].text, sizeof(r->ob[0].text), "DBANK=0");
	r->app.enabled = true;
	r->app.vid = 0x1209;
	r->app.pid = 0x0001;
}

void fxt_seq_station(struct fxt_seq *f, const char *name, bool power, bool leds)
{
	struct fx_station *st = &f->st;
	struct fx_station_slot *sl = &st->slots[0];

	memset(st, 0, sizeof(*st));
	snprintf(st->path, sizeof(st->path), "%s/station.ini", f->dir);
	snprintf(st->name, sizeof(st->name), "%s", name);
	snprintf(st->db_path, sizeof(st->db_path), "%s", f->db);
	st->gpio_backend = "sim";
	fxt_station_line(&st->start, "sim:START", FX_GPIO_INPUT, 0);
	fxt_station_line(&st->lid, "sim:LID", FX_GPIO_INPUT, 0);
	st->debounce_ms = 30;
	st->n_slots = 1;
	sl->index = 1;
	snprintf(sl->device, sizeof(sl->device), "emu:%s", f->board);
	sl->emulated = true;
	snprintf(sl->board_path, sizeof(sl->board_path), "%s", f->board);
	fxt_station_line(&sl->boot0, "sim:BOOT0_1", FX_GPIO_OUTPUT, 0);
	fxt_station_line(&sl->nrst, "sim:NRST_1", FX_GPIO_OUTPUT, 1);
	if (power)
		fxt_station_line(&sl->power, "sim:POWER_1", FX_GPIO_OUTPUT, 0);
	if (leds) {
		fxt_station_line(&sl->led_pass, "sim:LED_PASS_1", FX_GPIO_OUTPUT, 0);
		fxt_station_line(&sl->led_fail, "sim:LED_FAIL_1", FX_GPIO_OUTPUT, 0);
		fxt_station_line(&sl->led_busy, "sim:LED_BUSY_1", FX_GPIO_OUTPUT, 0);
	}
	sl->timing.power_on_ms = 50;
	sl->timing.power_off_ms = 200;
	sl->timing.nrst_pulse_ms = 20;
	sl->timing.boot0_setup_ms = 5;
	sl->power_off_at_end = power;
}

void fxt_seq_open(struct fxt_seq *f, const struct fx_clock *clk, unsigned uuid_seed)
{
	f->store = fx_store_open(f->db, &f->err);
	assert_non_null(f->store);
	fx_store_set_uuid_seed(f->store, uuid_seed);
	assert_int_equal(fx_seq_station_open(&f->st, clk ? clk : &f->vc.base,
					     &f->stn, &f->err), 0);
	f->slot = fx_seq_station_first(f->stn);
	assert_non_null(f->slot);
}

void fxt_seq_close(struct fxt_seq *f)
{
	fx_seq_station_close(f->stn);
	f->stn = NULL;
	fx_store_close(f->store);
	f->store = NULL;
	assert_int_equal(fxt_conf_rmdir(f->dir), 0);
}

void fxt_seq_put_board(struct fxt_seq *f, enum fx_seq_demo_board kind,
		       unsigned serial_no)
{
	struct fx_emu *b = fx_seq_demo_board_new(kind, serial_no, &f->rcp, &f->img,
						 &f->vc.base, &f->err);

	assert_non_null(b);
	assert_int_equal(fx_seq_slot_set_board(f->slot, b, &f->err), 0);
}

struct fx_emu *fxt_seq_board(struct fxt_seq *f)
{
	return fx_seq_slot_board(f->slot);
}

void fxt_seq_job(struct fxt_seq *f, struct fx_seq_job *job)
{
	memset(job, 0, sizeof(*job));
	job->recipe = &f->rcp;
	job->image = &f->img;
	job->station_name = f->st.name;
	job->operator_id = "op1";
	job->software_version = "fixturectl test";
	job->utc_offset_us = FXT_SEQ_DAY0_UTC + 8 * 3600 * 1000000LL;
}

const char *fxt_sql_text(const char *db, const char *sql, char *buf, size_t cap)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int rc;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(buf, cap, "%s", t ? (const char *)t : "");
	} else {
		snprintf(buf, cap, "<none>");
	}
	sqlite3_finalize(s);
	sqlite3_close(h);
	return buf;
}

int64_t fxt_sql_int(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

const char *fxt_seq_q(struct fxt_seq *f, const char *sql)
{
	return fxt_sql_text(f->db, sql, f->q, sizeof(f->q));
}

bool fxt_emu_holds(struct fx_emu *e, const struct fx_image *img)
{
	bool same = true;
	size_t i;

	for (i = 0; i < img->nsegs && same; i++) {
		const struct fx_image_seg *sg = &img->segs[i];
		uint8_t *buf = malloc(sg->len);

		assert_non_null(buf);
		assert_int_equal(fx_emu_backdoor_flash_read(e, sg->addr, buf, sg->len), 0);
		same = !memcmp(buf, sg->data, sg->len);
		free(buf);
	}
	return same;
}

void fxt_recipe_image_load(const char *path, struct fx_recipe **rcp,
			   struct fx_image **img)
{
	struct fx_err err;

	fx_err_clear(&err);
	if (fx_recipe_load(path, rcp, NULL, &err))
		fail_msg("recipe '%s': %s", path, err.msg);
	*img = fx_image_load((*rcp)->firmware, FX_IMAGE_AUTO, (*rcp)->firmware_raw,
			     (*rcp)->address, &err);
	if (!*img)
		fail_msg("firmware of '%s': %s", path, err.msg);
}
