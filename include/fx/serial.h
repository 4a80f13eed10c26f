/* serial.h - unit serial numbers (issue 11): the recipe's [serial_number]
 * section as data, the value formats and byte encodings (src/serial/), and
 * the allocation records in the station database (src/store/store_serial.c).
 *
 * ---- recipe section (parsed by src/conf/recipe_serial.c) -------------
 *
 *   [serial_number]
 *   source = counter            counter | list | scan (required)
 *   format = G4-{yy}{ww}-{n:05} counter only (required there): {n} or
 *                               {n:0W} (W = 1..20 digits, zero-padded) once;
 *                               {yyyy} {yy} {ww} = ISO 8601 week-numbering
 *                               year and week (UTC) of the reservation;
 *                               {station} = [station] name; {{ and }} are
 *                               literal braces
 *   first = 1, last = 99999     counter range, inclusive (first default 1,
 *                               last required; 0 .. 2^63-1)
 *   pool = g474-main            which range the recipe draws from
 *                               ([A-Za-z0-9._-]+, default: the recipe name)
 *   list = serials.csv          list only (required there): CSV (RFC 4180)
 *                               with a header line; column 'serial' required;
 *                               relative to the recipe
 *   write = flash:0x0807F800    flash:ADDR | otp | none (default none)
 *   encoding = ascii:16         ascii:N (N = 1..256 bytes, printable ASCII,
 *                               0xFF-padded) | u32le | u64le (the value's
 *                               decimal digits as an integer) | bytes:N
 *                               (N = 1..64 raw bytes from hex digits, pairs
 *                               optionally separated by ':' or '-', e.g. a MAC
 *                               00:11:22:33:44:55); default ascii:32
 *   on_fail = reuse             reuse | void: what a value that never reached
 *                               a board becomes (default reuse)
 *   warn_below = 100            warn when fewer values remain (default 0)
 *   central = no                yes: the pool's numbers come only from
 *                               blocks leased from the fleet's central
 *                               database (fx_serial_pool_add_block, origin
 *                               'lease'); first/last then bound what may be
 *                               leased. counter only (default no)
 *   lease = 1000                central: numbers asked for per lease
 *                               (1 .. 1000000, default 1000)
 *   write.COLUMN = ADDR-SPEC    list only: also write CSV column COLUMN of
 *   encoding.COLUMN = ENC       the allocated row, same syntax as write and
 *                               encoding (encoding.COLUMN required with
 *                               write.COLUMN), e.g. write.mac =
 *                               flash:0x0807F810, encoding.mac = bytes:6
 *   source = scan takes the operator's scan (--serial-scan) as the value and
 *   needs [program] serial = scan|both; counter and list need serial = uid.
 *
 * Where the bytes go:
 *   flash:ADDR  ADDR double-word aligned (8), the field inside the 512 KiB
 *               flash, and inside one bank unless the recipe sets DBANK = 0
 *               (dual-bank mode, the factory default, has banks at
 *               0x08000000 and 0x08040000); the image must hold only 0xFF
 *               there. Merged into the image before erase/program: one
 *               write, and the readback verify covers it.
 *   otp         the first free double words of the OTP area (0x1FFF7000,
 *               1 KiB, write-once per double word, spec 2.5): the serial,
 *               then each write.COLUMN = otp field in key order, each padded
 *               with 0xFF to whole double words. Written after the verify
 *               and read back. The station reads the OTP first: the first
 *               double-word-aligned record that decodes to a value of this
 *               pool (a counter value matching the format with n in range;
 *               a value of the list; for scan, any value of the encoding)
 *               is the board's serial.
 *   Fields never overlap each other.
 *
 * ---- allocation semantics (src/store/store_serial.c) ------------------
 *   reserved  committed in its own transaction BEFORE anything is written
 *             to the board (fx_serial_alloc)
 *   reached   (a time, not a state) set and committed just before the bytes
 *             can reach the board (fx_serial_reached): flash = before the
 *             program step, otp = before the OTP write
 *   bound     PASS, or any end after "reached": tied to the chip UID; a later
 *             run of the same UID in the same pool gets the same value
 *   released  ended without reaching the board, on_fail = reuse: the next
 *             allocation takes released values first (lowest n)
 *   voided    ended without reaching the board, on_fail = void: never
 *             issued again
 * A reservation whose run ended without fx_serial_finish() (kill -9, power
 * loss: fx_store_open() marks the run ABORTED) is resolved by the same rules
 * by fx_serial_recover(), which fx_serial_prepare() runs.
 * Values are unique in the whole database (not only in their pool): a value
 * another pool already issued is skipped.
 *
 * Pools and leases: a pool is a set of blocks [first, last] of numbers with a
 * "next never issued" cursor each; allocation takes released values first,
 * then the lowest cursor of the oldest block that has one. A counter recipe's
 * [first, last] is the pool's block of origin 'recipe'; a list is one block
 * [1, rows] of origin 'list' (n = row number). A central database adds blocks
 * with fx_serial_pool_add_block() (origin 'lease', its own reference): the
 * local model needs nothing else.
 *
 * A central pool (central = yes) gets no block from the recipe: only
 * fx_serial_pool_add_block() gives it numbers (the fleet's leases), and
 * prepare refuses a recipe whose central setting differs from the pool's.
 *
 * Records for sqlite3 users and the fleet (schema in
 * src/store/store_schema.c, version 3): serial_pool, serial_block,
 * serial_list (a list pool's imported rows), serial_alloc (one row per
 * value ever issued, value UNIQUE in the database; uuid TEXT = the row's
 * fleet-unique key, fx_store_uuid4), and serial_event, append-only, filled
 * by triggers on serial_alloc in the same transaction: one row per change
 * (id INTEGER PRIMARY KEY = commit order; alloc_uuid, pool, value, state =
 * reserved | reached | bound | released | voided, run_uuid, chip_uid,
 * time_us), so a pusher sends them in order by id. Views v_serials,
 * v_serial_pools, v_serial_events.
 * Order at the end of a run: fx_serial_finish() before fx_store_run_end();
 * a reservation whose run ended without it is resolved by its run's
 * result (PASS = bound) and "reached".
 *
 * Errors: 0 or negative FX_E_*, err filled. FX_E_EXHAUSTED "pool 'P': no
 * serial numbers left", FX_E_DUPLICATE "duplicate serial 'V' ...", FX_E_DB,
 * FX_E_CONFIG (pool in the database disagrees with the recipe), FX_E_NOMEM.
 * Threads: every store call takes the store's mutex and is one transaction,
 * so slots running in parallel may share one store.
 */
#ifndef FX_FX_SERIAL_H
#define FX_FX_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fx/err.h"
#include "fx/image.h"

#define FX_SERIAL_FORMAT_MAX 96   /* characters of format = */
#define FX_SERIAL_VALUE_MAX 257   /* longest value + NUL (ascii:256) */
#define FX_SERIAL_MAX_FIELDS 8    /* write.COLUMN fields */
#define FX_SERIAL_MAX_TOKS 24
#define FX_SERIAL_NAME_MAX 64
#define FX_SERIAL_PATH_MAX 1024
#define FX_SERIAL_ASCII_MAX 256
#define FX_SERIAL_BYTES_MAX 64
#define FX_SERIAL_OTP_BASE 0x1FFF7000u
#define FX_SERIAL_OTP_SIZE 1024u

/* ---- values: format, encoding (src/serial/serial_format.c) ----------- */

enum fx_serial_source {
	FX_SERIAL_COUNTER = 0,
	FX_SERIAL_LIST = 1,
	FX_SERIAL_SCAN = 2,
};

enum fx_serial_tok_kind {
	FX_SERIAL_TOK_LIT = 0, /* text[off, off+len) of the format */
	FX_SERIAL_TOK_N,       /* width 0 = as many digits as needed */
	FX_SERIAL_TOK_YYYY,
	FX_SERIAL_TOK_YY,
	FX_SERIAL_TOK_WW,
	FX_SERIAL_TOK_STATION,
};

struct fx_serial_tok {
	enum fx_serial_tok_kind kind;
	unsigned off, len;  /* LIT: the literal (braces already unescaped) */
	unsigned width;     /* N: zero-padded width, 0 = none */
};

/* A parsed format. lit holds the literals, unescaped. */
struct fx_serial_fmt {
	char text[FX_SERIAL_FORMAT_MAX + 1]; /* as written */
	char lit[FX_SERIAL_FORMAT_MAX + 1];
	size_t n_toks;
	struct fx_serial_tok toks[FX_SERIAL_MAX_TOKS];
	unsigned n_count;   /* {n} fields */
	bool station;       /* has {station} */
};

/* Parse s. FX_E_CONFIG with a message without the key ("unknown field
 * '{x}' (expected {n}, {n:0W}, {yyyy}, {yy}, {ww} or {station})",
 * "'{' without '}'", "'}' without '{' (write '}}')", "width 0 in '{n:00}'",
 * "longer than 96 characters"). */
int fx_serial_fmt_parse(const char *s, struct fx_serial_fmt *out,
			struct fx_err *err);
/* The value for number n at UTC time utc_us on station (NULL = "")
 * into out (cap). FX_E_RANGE when it does not fit cap. */
int fx_serial_fmt_render(const struct fx_serial_fmt *f, uint64_t n,
			 int64_t utc_us, const char *station, char *out,
			 size_t cap, struct fx_err *err);
/* Longest value of numbers up to last, {station} counted as station_len
 * characters. */
size_t fx_serial_fmt_max_len(const struct fx_serial_fmt *f, uint64_t last,
			     size_t station_len);
/* Every value is decimal digits only (no literal other than digits, no
 * {station}), so it can be an integer encoding. */
bool fx_serial_fmt_numeric(const struct fx_serial_fmt *f);
/* The largest value as an integer for numbers up to last (numeric formats),
 * saturating at UINT64_MAX. */
uint64_t fx_serial_fmt_max_value(const struct fx_serial_fmt *f, uint64_t last);
/* Does value match the format (any date, station = station)? OUT: *n. */
bool fx_serial_fmt_match(const struct fx_serial_fmt *f, const char *value,
			 const char *station, uint64_t *n);
/* ISO 8601 week-numbering year and week of a UTC time. */
void fx_serial_iso_week(int64_t utc_us, int *year, int *week);

enum fx_serial_enc_kind {
	FX_SERIAL_ASCII = 0, /* size bytes, 0xFF-padded */
	FX_SERIAL_U32LE,
	FX_SERIAL_U64LE,
	FX_SERIAL_BYTES,     /* size raw bytes from hex */
};

struct fx_serial_enc {
	enum fx_serial_enc_kind kind;
	unsigned size;       /* bytes on the board */
};

/* "ascii:16", "u32le", "u64le", "bytes:6". FX_E_CONFIG "expected
 * ascii:N (1..256), u32le, u64le or bytes:N (1..64), got 'X'". */
int fx_serial_enc_parse(const char *s, struct fx_serial_enc *out,
			struct fx_err *err);
/* Canonical text ("ascii:16"). */
void fx_serial_enc_name(const struct fx_serial_enc *e, char *buf, size_t cap);
/* value -> e->size bytes in out. FX_E_RANGE with a message naming why
 * ("'X' has 17 characters, ascii:16 holds 16", "'X' is not a decimal
 * number", "'X' does not fit u32le", "'X' is not 6 hex bytes",
 * "'X' has a character that is not printable ASCII"). */
int fx_serial_encode(const struct fx_serial_enc *e, const char *value,
		     uint8_t *out, struct fx_err *err);
/* e->size bytes -> the value (ascii: up to the first 0xFF, the rest 0xFF,
 * printable; integers: decimal, zero-padded to min_digits; bytes: hex pairs
 * joined by ':'). false when the bytes are not a value of the encoding
 * (e.g. erased 0xFF, unprintable). */
bool fx_serial_decode(const struct fx_serial_enc *e, const uint8_t *in,
		      unsigned min_digits, char *out, size_t cap);

/* ---- the recipe section ---------------------------------------------- */

enum fx_serial_where {
	FX_SERIAL_WRITE_NONE = 0,
	FX_SERIAL_WRITE_FLASH = 1,
	FX_SERIAL_WRITE_OTP = 2,
};

enum fx_serial_on_fail {
	FX_SERIAL_REUSE = 0,
	FX_SERIAL_VOID = 1,
};

/* One thing written: the serial itself (column "serial") or a list column. */
struct fx_serial_field {
	char column[FX_SERIAL_NAME_MAX];  /* "serial" or the CSV column */
	int col;                          /* index in the CSV header, -1 unknown */
	enum fx_serial_where where;
	uint32_t addr;                    /* FLASH */
	struct fx_serial_enc enc;
	unsigned write_line, enc_line;    /* recipe lines, 0 = not given */
};

struct fx_serial_conf {
	bool enabled;                      /* [serial_number] present */
	unsigned line;                     /* of the section header */
	enum fx_serial_source source;
	struct fx_serial_fmt fmt;          /* counter */
	uint64_t first, last;              /* counter */
	char pool[FX_SERIAL_NAME_MAX];
	char list[FX_SERIAL_PATH_MAX];     /* list: resolved path */
	char list_sha256[65];              /* list: of the file at load */
	size_t list_rows;                  /* list: data rows at load */
	enum fx_serial_on_fail on_fail;
	unsigned warn_below;
	bool central;                      /* blocks only by lease (fleet) */
	unsigned lease;                    /* numbers per lease */
	/* fields[0] is the serial; then write.COLUMN fields in key order */
	size_t n_fields;
	struct fx_serial_field fields[1 + FX_SERIAL_MAX_FIELDS];
};

const char *fx_serial_source_name(enum fx_serial_source s); /* "counter" */
const char *fx_serial_on_fail_name(enum fx_serial_on_fail f); /* "reuse" */
const char *fx_serial_where_name(enum fx_serial_where w);     /* "flash" */

/* ---- lists (src/serial/serial_list.c) ---------------------------------- */

/* A parsed list file: rows of fields, header first. Owned by the caller:
 * fx_serial_list_free(). */
struct fx_serial_list {
	char path[FX_SERIAL_PATH_MAX];
	char sha256[65];
	size_t n_cols;
	char **header;          /* n_cols names */
	int serial_col;         /* index of 'serial' */
	size_t n_rows;
	char ***rows;           /* n_rows x n_cols values */
	unsigned *lines;        /* line of each row in the file */
};

/* Problems are reported through fn ("PATH:LINE: MSG", every one, in file
 * order); the call returns FX_E_CONFIG if any was reported, FX_E_FILE
 * ("PATH: cannot read: REASON"), FX_E_NOMEM, or 0 with *out. Checked:
 * RFC 4180 quoting ("unterminated quoted field", "text after a closing
 * quote"), a header with a 'serial' column and no empty or repeated name,
 * the same number of fields on every line ("expected 3 fields, got 2"),
 * no control characters, no empty serial, no repeated serial ("serial 'X'
 * repeated (first at line N)"). Blank lines are skipped; a UTF-8 BOM is
 * ignored. */
typedef void (*fx_serial_diag_fn)(void *user, const char *msg);
int fx_serial_list_load(const char *path, struct fx_serial_list **out,
			fx_serial_diag_fn fn, void *user, struct fx_err *err);
void fx_serial_list_free(struct fx_serial_list *l); /* NULL is fine */
/* Column index by name, -1 if none. */
int fx_serial_list_col(const struct fx_serial_list *l, const char *name);

/* ---- OTP records (src/serial/serial_layout.c) ------------------------ */

/* Bytes the OTP record of c takes (every otp field rounded up to 8). */
unsigned fx_serial_otp_record_size(const struct fx_serial_conf *c);
/* Offset of the first run of erased (all 0xFF) double words at the end of
 * the written OTP big enough for need bytes: the record goes after the last
 * written double word. -1 when it does not fit. */
int fx_serial_otp_free_offset(const uint8_t *otp, size_t otp_len, unsigned need);

/* ---- the bytes of an allocation (serial_layout.c, serial_image.c) ---- */

struct fx_serial_alloc;

/* The OTP record of allocation a: every otp field of c in order, encoded,
 * each padded with 0xFF to whole double words, into out (>=
 * FX_SERIAL_OTP_SIZE bytes); *len its size. Encoding errors as
 * fx_serial_encode. */
int fx_serial_otp_record(const struct fx_serial_conf *c, const struct fx_serial_alloc *a,
			 uint8_t *out, unsigned *len, struct fx_err *err);
/* The serial a board's OTP already carries: the first double-word-aligned
 * place where c's serial field (write = otp) decodes to a value of this
 * pool (counter: the format, station = station, n in [first, last] unless
 * central; list and scan: any value of the encoding). false when none
 * (or the serial is not written to OTP). OUT: value, *off (may be NULL). */
bool fx_serial_otp_find(const struct fx_serial_conf *c, const uint8_t *otp, size_t otp_len,
			const char *station, char *value, size_t cap, unsigned *off);
/* Does the OTP hold these record bytes at a double-word-aligned place
 * (the record was written by an earlier run)? */
bool fx_serial_otp_holds(const uint8_t *otp, size_t otp_len, const uint8_t *rec, unsigned len);

/* Bytes written over the image. */
struct fx_serial_patch {
	uint32_t addr;
	uint32_t len;
	const uint8_t *data;
};
/* A new image: img with the n patches written over it (a patch wins
 * where they overlap; overlapping and adjacent runs become one segment).
 * The caller frees *out with fx_image_free(). FX_E_NOMEM, FX_E_RANGE. */
int fx_serial_image_merge(const struct fx_image *img, const struct fx_serial_patch *p, size_t n,
			  struct fx_image **out, struct fx_err *err);

/* ---- allocation records (src/store/store_serial.c) ------------------- */

struct fx_store;

enum fx_serial_state {
	FX_SERIAL_RESERVED = 0,
	FX_SERIAL_BOUND = 1,
	FX_SERIAL_RELEASED = 2,
	FX_SERIAL_VOIDED = 3,
};
const char *fx_serial_state_name(enum fx_serial_state s); /* "reserved" */

/* Make the pool of c match the recipe (create it, its recipe block, import
 * a changed list: rows are only ever appended, by value), resolve stale
 * reservations (fx_serial_recover), and fill *remaining (values left; for
 * scan pools UINT64_MAX). Cheap when nothing changed (one lookup): call it
 * before every board. FX_E_CONFIG when the database's pool disagrees
 * ("pool 'P' is a counter pool in the database, the recipe says list",
 * "pool 'P': recipe first = 5, the database's block starts at 1",
 * "pool 'P': last = 10 is below 12, already issued") or the list file now
 * has errors (the first); FX_E_FILE for an unreadable list. */
int fx_serial_prepare(struct fx_store *st, const struct fx_serial_conf *c,
		      int64_t now_us, uint64_t *remaining, struct fx_err *err);

/* Add a block [first, last] to pool (which must exist) as one
 * transaction: the LEASE API for a central database (origin "lease", ref
 * = its lease id, may be NULL). FX_E_INVAL for first > last or a pool of
 * another source than counter; FX_E_CONFIG "pool 'P': block [a, b]
 * overlaps block [c, d]"; FX_E_NOTFOUND for an unknown pool. OUT:
 * *block_id (may be NULL). */
int fx_serial_pool_add_block(struct fx_store *st, const char *pool,
			     uint64_t first, uint64_t last, const char *origin,
			     const char *ref, int64_t now_us, int64_t *block_id,
			     struct fx_err *err);

/* What one allocation asks for; strings borrowed for the call. */
struct fx_serial_request {
	const struct fx_serial_conf *conf;
	const char *chip_uid;   /* required */
	int64_t run_id;         /* runs.id of the run */
	const char *found;      /* value the board already carries (OTP), or NULL */
	const char *scan;       /* source = scan: the operator's scan */
	const char *station;    /* for {station} */
	int64_t now_us;
};

/* The allocation; plain data. */
struct fx_serial_alloc {
	int64_t id;                       /* serial_alloc.id */
	char value[FX_SERIAL_VALUE_MAX];
	int64_t n;                        /* -1 when none (scan, foreign) */
	enum fx_serial_state state;       /* RESERVED, or BOUND (kept/adopted) */
	bool kept;                        /* the UID already held it (bound) */
	bool adopted;                     /* found on the board, now bound */
	size_t n_cols;                    /* list: the row's fields */
	char cols[FX_SERIAL_MAX_FIELDS + 1][FX_SERIAL_VALUE_MAX]; /* by field
					   * index of conf->fields (0 = serial) */
	uint64_t remaining;               /* values left after this one */
};

/* One transaction: resolve stale reservations, then in order: a found value
 * (bound to another UID or reserved by another run: FX_E_DUPLICATE
 * "duplicate serial 'V': bound to chip UID U"; else bound to this UID,
 * adopted; for a list pool only a value of its list, anything else is
 * not this pool's and is ignored), the value already bound to this UID in this pool (kept), the
 * scan (source = scan; FX_E_DUPLICATE when another UID holds it or it was
 * voided), the lowest released value, the next never-issued number. OUT:
 * a filled. FX_E_EXHAUSTED when nothing is left. */
int fx_serial_alloc(struct fx_store *st, const struct fx_serial_request *rq,
		    struct fx_serial_alloc *a, struct fx_err *err);
/* The value may reach the board from now on (committed). */
int fx_serial_reached(struct fx_store *st, int64_t alloc_id, int64_t now_us,
		      struct fx_err *err);
/* The run ended: pass = bound; else bound when reached, else released
 * (reuse) or voided (void). OUT: *state (may be NULL). */
int fx_serial_finish(struct fx_store *st, int64_t alloc_id, bool pass,
		     int64_t now_us, enum fx_serial_state *state,
		     struct fx_err *err);
/* Resolve the reservations whose run has ended (result set, e.g. ABORTED at
 * start-up, or no such run) by the rules of fx_serial_finish with pass =
 * the run's result was PASS. Runs still open (another slot's) are never
 * touched. Every fx_serial_alloc and fx_serial_prepare runs it first.
 * OUT: *count (may be NULL). */
int fx_serial_recover(struct fx_store *st, int64_t now_us, unsigned *count,
		      struct fx_err *err);

/* Per pool, for the report and the operator. */
struct fx_serial_pool_stats {
	char pool[FX_SERIAL_NAME_MAX];
	char source[16];
	uint64_t bound, reserved, released, voided;
	uint64_t remaining;               /* UINT64_MAX: unbounded (scan) */
	uint64_t blocks;
	char last_value[FX_SERIAL_VALUE_MAX]; /* "" when none issued */
};
/* Stats of one pool. FX_E_NOTFOUND for an unknown pool. */
int fx_serial_pool_stats(struct fx_store *st, const char *pool,
			 struct fx_serial_pool_stats *out, struct fx_err *err);
/* Stats of every pool, by name: *out malloc'd (the caller frees; NULL
 * when *n = 0). */
int fx_serial_pools(struct fx_store *st, struct fx_serial_pool_stats **out,
		    size_t *n, struct fx_err *err);

#endif
