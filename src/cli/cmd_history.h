/* cmd_history.h - `fixturectl history SERIAL|UID`: every run of a unit
 * with its steps. */
#ifndef FX_CLI_CMD_HISTORY_H
#define FX_CLI_CMD_HISTORY_H

int fx_cmd_history(int argc, char **argv);

#endif
