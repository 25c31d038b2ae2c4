#pragma once
// The one way into libosmocore. Its 1.7.0 headers have no extern "C" guards.
extern "C" {
#include <osmocom/core/bits.h>
#include <osmocom/core/crc16gen.h>
#include <osmocom/core/crc8gen.h>
#include <osmocom/core/crcgen.h>
#include <osmocom/core/utils.h>
}
