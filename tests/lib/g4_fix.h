/* g4_fix.h - STM32G4 facts the tests check the library against, written
 * from the spec (not from src/target), so a wrong table in the library
 * cannot agree with itself. */
#ifndef FX_TESTS_G4_FIX_H
#define FX_TESTS_G4_FIX_H

#include <stdint.h>

/* spec 3.2: the factory 48-byte image of the option bytes at 0x1FFF7800
 * (bank 1; OPTR 0xFFEFF8AA and its complement first) */
extern const uint8_t fxt_g4_factory_ob1[48];

#endif
