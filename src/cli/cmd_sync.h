/* cmd_sync.h - fixturectl sync: push the station database to the fleet
 * database (fx/fleet.h). */
#ifndef FX_CLI_CMD_SYNC_H
#define FX_CLI_CMD_SYNC_H

int fx_cmd_sync(int argc, char **argv);

#endif
