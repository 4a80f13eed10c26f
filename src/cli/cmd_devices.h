/* cmd_devices.h - `fixturectl devices`: list the DFU devices on the USB
 * bus with their port path, serial, VID:PID and memory layout. */
#ifndef FX_CLI_CMD_DEVICES_H
#define FX_CLI_CMD_DEVICES_H
int fx_cmd_devices(int argc, char **argv);
#endif
