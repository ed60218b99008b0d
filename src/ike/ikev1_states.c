/* ikev1_states.c - the IKEv1 state table: one row per message we accept,
 * for every exchange (Main, Aggressive, Quick Mode, Informational), keyed
 * by exchange type, state and role.  A row says which payloads the message
 * must and may carry and how many, whether it must be encrypted, the
 * handler, the state the exchange is in once the handler accepted it, and
 * whether our answer is retransmitted until the peer's next message.
 * dispatch.c looks the row up after the message parsed and checks its
 * rules before the handler runs; the handler only ever sees a digest that
 * passed them. */
#include "ike/exchange.h"

#define P(t) PBIT(ISAKMP_NP_##t)
#define ONCE_P1 (P(SA) | P(KE) | P(NONCE) | P(HASH))
#define P_QM_OPT (P(KE) | P(ID) | P(N) | P(NATOA) | P(NATOA_DRAFT))

const struct ike_transition ike_transitions[] = {
	/* Main mode, RFC 2409 5 (figure 1): MM1..MM6 */
	{ ISAKMP_XCHG_IDPROT, IKE_ST_NONE, IKE_ROLE_R, MM_R1, IKE_ENC_ANY, false, P(SA), P(VID),
	  ONCE_P1, false, mm_inI1_outR1, "MM1" },
	{ ISAKMP_XCHG_IDPROT, MM_I1, IKE_ROLE_I, MM_I2, IKE_ENC_ANY, false, P(SA), P(VID), ONCE_P1,
	  true, mm_inR1_outI2, "MM2" },
	{ ISAKMP_XCHG_IDPROT, MM_R1, IKE_ROLE_R, MM_R2, IKE_ENC_ANY, false, P(KE) | P(NONCE),
	  P_NATD | P(VID), ONCE_P1, false, mm_inI2_outR2, "MM3" },
	{ ISAKMP_XCHG_IDPROT, MM_I2, IKE_ROLE_I, MM_I3, IKE_ENC_ANY, false, P(KE) | P(NONCE),
	  P_NATD | P(VID), ONCE_P1, true, mm_inR2_outI3, "MM4" },
	{ ISAKMP_XCHG_IDPROT, MM_R2, IKE_ROLE_R, IKE_ST_ESTABLISHED, IKE_ENC_MUST, false,
	  P(ID) | P(HASH), P(N) | P(VID), ONCE_P1, false, mm_inI3_outR3, "MM5" },
	{ ISAKMP_XCHG_IDPROT, MM_I3, IKE_ROLE_I, IKE_ST_ESTABLISHED, IKE_ENC_MUST, false,
	  P(ID) | P(HASH), P(N) | P(VID), ONCE_P1, false, mm_inR3, "MM6" },

	/* Aggressive mode, RFC 2409 5 (figure 2): AM1..AM3; the responder
	 * repeats AM2 until AM3 comes */
	{ ISAKMP_XCHG_AGGR, IKE_ST_NONE, IKE_ROLE_R, AM_R1, IKE_ENC_ANY, false,
	  P(SA) | P(KE) | P(NONCE) | P(ID), P(VID), ONCE_P1, true, am_inI1_outR1, "AM1" },
	{ ISAKMP_XCHG_AGGR, AM_I1, IKE_ROLE_I, IKE_ST_ESTABLISHED, IKE_ENC_ANY, false,
	  P(SA) | P(KE) | P(NONCE) | P(ID) | P(HASH), P(VID) | P_NATD, ONCE_P1, false,
	  am_inR1_outI2, "AM2" },
	{ ISAKMP_XCHG_AGGR, AM_R1, IKE_ROLE_R, IKE_ST_ESTABLISHED, IKE_ENC_ANY, false, P(HASH),
	  P_NATD | P(N) | P(VID), ONCE_P1, false, am_inI2, "AM3" },

	/* Quick Mode, RFC 2409 5.5: QM1..QM3, HASH first; the responder
	 * repeats QM2 until QM3 comes */
	{ ISAKMP_XCHG_QUICK, QM_NONE, IKE_ROLE_R, QM_R1, IKE_ENC_MUST, true,
	  P(HASH) | P(SA) | P(NONCE), P_QM_OPT, P(HASH), true, qm_inI1_outR1, "QM1" },
	{ ISAKMP_XCHG_QUICK, QM_I1, IKE_ROLE_I, QM_DONE, IKE_ENC_MUST, true,
	  P(HASH) | P(SA) | P(NONCE), P_QM_OPT, P(HASH), false, qm_inR1_outI2, "QM2" },
	{ ISAKMP_XCHG_QUICK, QM_R1, IKE_ROLE_R, QM_DONE, IKE_ENC_MUST, true, P(HASH), 0, P(HASH),
	  false, qm_inI2, "QM3" },

	/* Informational, RFC 2409 5.7: notifies (DPD, RFC 3706), Delete.
	 * In phase 1 the peer can only say what went wrong in the clear. */
	{ ISAKMP_XCHG_INFO, IKE_ST_ANY, IKE_ROLE_ANY, IKE_ST_SAME, IKE_ENC_PLAIN, false, 0, P_ANY,
	  0, false, info_plain_in, "Informational (clear)" },
	{ ISAKMP_XCHG_INFO, IKE_ST_ESTABLISHED, IKE_ROLE_ANY, IKE_ST_SAME, IKE_ENC_MUST, true,
	  P(HASH), P_ANY, 0, false, info_in, "Informational" },
	{ 0 },
};
