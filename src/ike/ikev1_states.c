/* ikev1_states.c - the IKEv1 state table: one row per message we accept,
 * for every exchange (Main, Aggressive, Quick Mode, Informational), keyed
 * by exchange type, state and role.  A row says which payloads the message
 * must and may carry and how many, whether it must be encrypted, the
 * handler, the state the exchange is in once the handler accepted it,
 * whether our answer is retransmitted until the peer's next message, and
 * how long the next state may wait for the peer before it is given up.
 * The IKE_ST_START rows are our own first messages: the state and the
 * timeout an initiator's SA or exchange starts with.
 * dispatch.c looks the row up after the message parsed and checks its
 * rules before the handler runs; the handler only ever sees a digest that
 * passed them. */
#include "ike/exchange.h"

#define P(t) PBIT(ISAKMP_NP_##t)
#define ONCE_P1 (P(SA) | P(KE) | P(NONCE) | P(HASH))
#define P_QM_OPT (P(KE) | P(ID) | P(N) | P(NATOA) | P(NATOA_DRAFT) | P(VID))
/* Status notifies (RESPONDER-LIFETIME, INITIAL-CONTACT, vendors' own) and
 * vendor IDs are allowed in every message: peer_notes.c records them and
 * acts on those it knows. */
#define P_TOL (P(N) | P(VID))

/* Timeout rules.  A responder's half-open SA goes IKE_HALF_OPEN_MS after
 * its first message, whatever state it reached; an initiator's phase 1
 * ends by its retransmissions.  A Quick Mode exchange goes
 * IKE_HALF_OPEN_MS after it started, and once done is kept
 * IKE_QM_DONE_KEEP_MS longer to answer the peer's retransmissions. */
#define T_HALF_OPEN IKE_TMO_START, IKE_HALF_OPEN_MS
#define T_RETRANS IKE_TMO_NONE, 0
#define T_ESTABLISHED IKE_TMO_NONE, 0
#define T_QM IKE_TMO_START, IKE_HALF_OPEN_MS
#define T_QM_DONE IKE_TMO_START, IKE_HALF_OPEN_MS + IKE_QM_DONE_KEEP_MS
#define T_SAME IKE_TMO_SAME, 0

const struct ike_transition ike_transitions[] = {
	/* Our first messages: MM1, AM1 (their answers end in no answer
	 * after the retransmissions), QM1 */
	{ ISAKMP_XCHG_IDPROT, IKE_ST_START, IKE_ROLE_I, MM_I1, IKE_ENC_ANY, false, 0, 0, 0, true,
	  T_RETRANS, NULL, "MM1 out" },
	{ ISAKMP_XCHG_AGGR, IKE_ST_START, IKE_ROLE_I, AM_I1, IKE_ENC_ANY, false, 0, 0, 0, true,
	  T_RETRANS, NULL, "AM1 out" },
	{ ISAKMP_XCHG_QUICK, IKE_ST_START, IKE_ROLE_I, QM_I1, IKE_ENC_MUST, true, 0, 0, 0, true,
	  T_QM, NULL, "QM1 out" },

	/* Main mode, RFC 2409 5 (figure 1): MM1..MM6 */
	{ ISAKMP_XCHG_IDPROT, IKE_ST_NONE, IKE_ROLE_R, MM_R1, IKE_ENC_ANY, false, P(SA), P_TOL,
	  ONCE_P1, false, T_HALF_OPEN, mm_inI1_outR1, "MM1" },
	{ ISAKMP_XCHG_IDPROT, MM_I1, IKE_ROLE_I, MM_I2, IKE_ENC_ANY, false, P(SA), P_TOL, ONCE_P1,
	  true, T_RETRANS, mm_inR1_outI2, "MM2" },
	{ ISAKMP_XCHG_IDPROT, MM_R1, IKE_ROLE_R, MM_R2, IKE_ENC_ANY, false, P(KE) | P(NONCE),
	  P_NATD | P_TOL, ONCE_P1, false, T_HALF_OPEN, mm_inI2_outR2, "MM3" },
	{ ISAKMP_XCHG_IDPROT, MM_I2, IKE_ROLE_I, MM_I3, IKE_ENC_ANY, false, P(KE) | P(NONCE),
	  P_NATD | P_TOL, ONCE_P1, true, T_RETRANS, mm_inR2_outI3, "MM4" },
	{ ISAKMP_XCHG_IDPROT, MM_R2, IKE_ROLE_R, IKE_ST_ESTABLISHED, IKE_ENC_MUST, false,
	  P(ID) | P(HASH), P(N) | P(VID), ONCE_P1, false, T_ESTABLISHED, mm_inI3_outR3, "MM5" },
	{ ISAKMP_XCHG_IDPROT, MM_I3, IKE_ROLE_I, IKE_ST_ESTABLISHED, IKE_ENC_MUST, false,
	  P(ID) | P(HASH), P(N) | P(VID), ONCE_P1, false, T_ESTABLISHED, mm_inR3, "MM6" },

	/* Aggressive mode, RFC 2409 5 (figure 2): AM1..AM3; the responder
	 * sends AM2 once per AM1 and again only when that AM1 is repeated:
	 * no timer of its own, so a forged AM1 is never answered more than
	 * once (no reflection gain) */
	{ ISAKMP_XCHG_AGGR, IKE_ST_NONE, IKE_ROLE_R, AM_R1, IKE_ENC_ANY, false,
	  P(SA) | P(KE) | P(NONCE) | P(ID), P_TOL, ONCE_P1, false, T_HALF_OPEN, am_inI1_outR1,
	  "AM1" },
	{ ISAKMP_XCHG_AGGR, AM_I1, IKE_ROLE_I, IKE_ST_ESTABLISHED, IKE_ENC_ANY, false,
	  P(SA) | P(KE) | P(NONCE) | P(ID) | P(HASH), P_TOL | P_NATD, ONCE_P1, false, T_ESTABLISHED,
	  am_inR1_outI2, "AM2" },
	{ ISAKMP_XCHG_AGGR, AM_R1, IKE_ROLE_R, IKE_ST_ESTABLISHED, IKE_ENC_ANY, false, P(HASH),
	  P_NATD | P(N) | P(VID), ONCE_P1, false, T_ESTABLISHED, am_inI2, "AM3" },

	/* Quick Mode, RFC 2409 5.5: QM1..QM3, HASH first; the responder
	 * repeats QM2 until QM3 comes */
	{ ISAKMP_XCHG_QUICK, QM_NONE, IKE_ROLE_R, QM_R1, IKE_ENC_MUST, true,
	  P(HASH) | P(SA) | P(NONCE), P_QM_OPT, P(HASH), true, T_QM, qm_inI1_outR1, "QM1" },
	{ ISAKMP_XCHG_QUICK, QM_I1, IKE_ROLE_I, QM_DONE, IKE_ENC_MUST, true,
	  P(HASH) | P(SA) | P(NONCE), P_QM_OPT, P(HASH), false, T_QM_DONE, qm_inR1_outI2, "QM2" },
	{ ISAKMP_XCHG_QUICK, QM_R1, IKE_ROLE_R, QM_DONE, IKE_ENC_MUST, true, P(HASH), P_TOL,
	  P(HASH), false, T_QM_DONE, qm_inI2, "QM3" },

	/* Informational, RFC 2409 5.7: notifies (DPD, RFC 3706), Delete.
	 * In phase 1 the peer can only say what went wrong in the clear. */
	{ ISAKMP_XCHG_INFO, IKE_ST_ANY, IKE_ROLE_ANY, IKE_ST_SAME, IKE_ENC_PLAIN, false, 0, P_ANY,
	  0, false, T_SAME, info_plain_in, "Informational (clear)" },
	{ ISAKMP_XCHG_INFO, IKE_ST_ESTABLISHED, IKE_ROLE_ANY, IKE_ST_SAME, IKE_ENC_MUST, true,
	  P(HASH), P_ANY, 0, false, T_SAME, info_in, "Informational" },
	{ 0 },
};
