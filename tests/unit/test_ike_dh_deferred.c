/* test_ike_dh_deferred.c - every scenario of test_ike_engine.c again, with
 * Diffie-Hellman handed to a fake pool (ike_io.dh_submit) whose results
 * come back late and out of order: the engine must reach the same
 * outcomes as with inline DH, and freeing an engine must cancel every job
 * its SAs still wait for. */
#define KZ_TEST_DH_DEFERRED 1
#include "test_ike_engine.c"
