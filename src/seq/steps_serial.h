/* steps_serial.h - module-private: the serial number of one run (issue
 * 11, fx/serial.h): allocated after the chip is identified, written with
 * the image (flash) or after the verify (OTP), finished by the rules.
 * Independent of struct seq_run: seq.c holds one struct seq_serial per run
 * and hands each call what it needs. */
#ifndef FX_SEQ_STEPS_SERIAL_H
#define FX_SEQ_STEPS_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "fx/dfu.h"
#include "fx/image.h"
#include "fx/serial.h"
#include "fx/store.h"

struct seq_serial {
	const struct fx_serial_conf *conf; /* NULL: the recipe has no section */
	struct fx_store *st;
	int64_t run_id;
	bool allocated;      /* a holds the run's value */
	bool reached;        /* fx_serial_reached committed */
	bool finished;
	bool on_otp;         /* the OTP already carries the record */
	struct fx_serial_alloc a;
	uint8_t otp[FX_SERIAL_OTP_SIZE]; /* as read before anything was written */
	bool have_otp;
	uint8_t rec[FX_SERIAL_OTP_SIZE]; /* the OTP record of a */
	unsigned rec_len;                /* 0: nothing goes to OTP */
	int otp_off;                     /* where it goes */
	struct fx_image *merged;         /* image + flash fields, owned */
	unsigned n_flash;                /* flash fields */
};

/* conf NULL or not enabled: every call below is a no-op returning 0. */
void seq_serial_init(struct seq_serial *s, const struct fx_serial_conf *conf,
		     struct fx_store *st, int64_t run_id);
void seq_serial_release(struct seq_serial *s); /* frees merged */
bool seq_serial_active(const struct seq_serial *s);
/* Fields written to OTP (a serial_otp step runs). */
bool seq_serial_has_otp(const struct seq_serial *s);

/* The step "serial": read the OTP first when a field goes there (the
 * serial it carries is the board's; a full OTP FAILs before anything is
 * written), allocate (fx_serial_alloc: one transaction), and merge the
 * flash fields into img (seq_serial_image()). *fail = true when the unit
 * is at fault (duplicate serial, OTP full) rather than the station.
 * detail gets e.g. "G4-2649-00001 reserved (n 1, 99 left)". */
int seq_serial_allocate(struct seq_serial *s, struct fx_dfu *d, const struct fx_image *img,
			const char *uid, const char *scan, const char *station, int64_t now_us,
			bool *fail, char *detail, size_t cap, struct fx_err *err);
/* The image to program: merged, or img when no field goes to flash. */
const struct fx_image *seq_serial_image(const struct seq_serial *s, const struct fx_image *img);
/* Just before the program step: the flash fields may reach the board. */
int seq_serial_before_program(struct seq_serial *s, int64_t now_us, struct fx_err *err);
/* The step "serial_otp" (after verify): reached committed, the record
 * written at the first free double words, read back. 1 (skipped) when the
 * OTP already carries it. A readback that differs: FX_E_VERIFY, *fail. */
int seq_serial_write_otp(struct seq_serial *s, struct fx_dfu *d, int64_t now_us, bool *fail,
			 char *detail, size_t cap, struct fx_err *err);
/* After a verify failure (err FX_E_VERIFY): when a flash field does not
 * read back, the message names the serial. */
void seq_serial_verify_note(const struct seq_serial *s, struct fx_dfu *d, struct fx_err *err);
/* The run ended (before its run-end commit): bound, released or voided
 * by the rules. OUT: *state (may be NULL). */
int seq_serial_finish(struct seq_serial *s, bool pass, int64_t now_us,
		      enum fx_serial_state *state, struct fx_err *err);

#endif
