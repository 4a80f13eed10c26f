/* seq_fix.h - the station fixture of the sequence tests (tests/emu/
 * test_seq*.c, test_cycle.c): a scratch directory with the firmware file,
 * its image, a recipe and a one-slot emulated station built in code, the
 * station database, and the helpers every such test uses (a demo board in
 * the slot, knobs, a job, a query on the database file). Virtual time.
 * Failures end the running cmocka test. */
#ifndef FX_TESTS_SEQ_FIX_H
#define FX_TESTS_SEQ_FIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/clock.h"
#include "fx/conf.h"
#include "fx/emu.h"
#include "fx/image.h"
#include "fx/seq.h"
#include "fx/store.h"

#define FXT_SEQ_FW_LEN 20480u
#define FXT_SEQ_DAY0_UTC 1764028800000000LL /* 2025-11-25T00:00:00Z */

struct fxt_seq {
	char dir[64], db[128], fw[128], board[128];
	struct fx_vclock vc;
	struct fx_station st;
	struct fx_recipe rcp;
	uint8_t fw_data[FXT_SEQ_FW_LEN];
	struct fx_image_seg seg;
	struct fx_image img;
	struct fx_store *store;
	struct fx_seq_station *stn;
	struct fx_seq_slot *slot;
	struct fx_seq_outcome out;
	struct fx_err err;
	char q[512];
};

/* The scratch directory from tmpl ("/tmp/fxseq.XXXXXX") with the paths
 * DIR/station.db, DIR/fw.bin, DIR/board.fxb; the virtual clock at 0. */
void fxt_seq_init(struct fxt_seq *f, const char *tmpl);
/* FXT_SEQ_FW_LEN pseudo-random bytes from seed, the first 8 replaced by
 * vt (a vector table; NULL keeps the random bytes), written to f->fw and
 * held as the one-segment image f->img at 0x08000000; the recipe's
 * firmware_sha256 is the file's. */
void fxt_seq_firmware(struct fxt_seq *f, uint32_t seed, const uint8_t vt[8]);
/* A plausible vector table: SP at the top of SRAM1, reset handler odd. */
extern const uint8_t fxt_seq_vectors[8];
/* fx_recipe_defaults() named name/version for stm32g474xe with f->fw as
 * the firmware, DBANK=0 and [app_check] 1209:0001. */
void fxt_seq_recipe(struct fxt_seq *f, const char *name, const char *version);
/* One slot [slot 1] on emu:DIR/board.fxb with sim: lines BOOT0_1 and
 * NRST_1, POWER_1 when power (then powered off at the end), the three
 * LED_*_1 when leds; START and LID; station timing power_on 50 ms,
 * power_off 200 ms, nrst_pulse 20 ms, boot0_setup 5 ms. */
void fxt_seq_station(struct fxt_seq *f, const char *name, bool power, bool leds);
/* Open the store (run UUIDs from uuid_seed) and the station on clk
 * (NULL = f->vc). */
void fxt_seq_open(struct fxt_seq *f, const struct fx_clock *clk, unsigned uuid_seed);
/* Close station and store, remove the directory. */
void fxt_seq_close(struct fxt_seq *f);

/* A demo board of kind in the slot (UID from serial_no). */
void fxt_seq_put_board(struct fxt_seq *f, enum fx_seq_demo_board kind,
		       unsigned serial_no);
/* The board in the slot. */
struct fx_emu *fxt_seq_board(struct fxt_seq *f);
/* The job of a run of f->rcp on f->img, operator "op1", the records on
 * FXT_SEQ_DAY0_UTC + 8 h. */
void fxt_seq_job(struct fxt_seq *f, struct fx_seq_job *job);
/* First column of the first row of sql on the database file, "" for
 * NULL, "<none>" for no row (in f->q). */
const char *fxt_seq_q(struct fxt_seq *f, const char *sql);

/* The same on any database file: into buf (cap bytes), returned. */
const char *fxt_sql_text(const char *db, const char *sql, char *buf, size_t cap);
/* First column of the first row as a number, -1 for no row. */
int64_t fxt_sql_int(const char *db, const char *sql);

/* Does board e hold every segment of img (the logical flash view)? */
bool fxt_emu_holds(struct fx_emu *e, const struct fx_image *img);
/* Load a recipe file (path relative to the tree, "config/demo-g474.ini")
 * and its firmware image. Free with fx_recipe_free(), fx_image_free(). */
void fxt_recipe_image_load(const char *path, struct fx_recipe **rcp,
			   struct fx_image **img);

#define FXT_LAST_RUN(col) "SELECT " col " FROM runs ORDER BY id DESC LIMIT 1"
#define FXT_STEP_OF_LAST(col, name) \
	"SELECT " col " FROM steps WHERE run_id = (SELECT max(id) FROM runs) AND name = '" name "'"

#endif
