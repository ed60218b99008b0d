/* esp.c - ESP packets in and out for one SA direction (RFC 4303, tunnel
 * mode; AES-GCM per RFC 4106).  See esp.h for the order of the inbound
 * checks and the thread-safety rules. */
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "esp/esp_int.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/mem.h"

#define ESP_SEQ_LIMIT ((uint64_t)UINT32_MAX + 1)
#define IPV4_MIN_HDR 20

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int64_t now_unix(void)
{
	struct timespec ts;

	/* The coarse clock is a vDSO read: cheap enough per packet. */
	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0)
		return 0;
	return ts.tv_sec;
}

/* RFC 4106 4: nonce = salt (from KEYMAT) | explicit IV.  The explicit IV
 * is the sequence number zero-extended to 64 bits, which never repeats
 * under one key since the counter never wraps (RFC 4106 3.1 allows a
 * counter). */
static void gcm_nonce(const struct esp_sa *sa, const uint8_t *iv, uint8_t nonce[ESP_GCM_NONCE_LEN])
{
	memcpy(nonce, sa->salt, ESP_GCM_SALT_LEN);
	memcpy(nonce + ESP_GCM_SALT_LEN, iv, 8);
}

/* The GCM tag out of (encrypt) or into (decrypt) the cipher context,
 * straight through the provider's parameter: EVP_CIPHER_CTX_ctrl builds
 * the same parameter after translating the control code, a cost per
 * packet. */
static int gcm_tag(struct esp_sa *sa, uint8_t *tag, bool set)
{
	OSSL_PARAM prm[2];

	prm[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, sa->icv_len);
	prm[1] = OSSL_PARAM_construct_end();
	if (set ? !EVP_CIPHER_CTX_set_params(sa->cipher, prm)
		: !EVP_CIPHER_CTX_get_params(sa->cipher, prm))
		return KZ_EIO;
	return 0;
}

static int mac_compute(struct esp_sa *sa, const uint8_t *p, size_t len, uint8_t *md)
{
	size_t mdlen = 0;

	/* A NULL key re-initialises the HMAC with the key set at SA
	 * creation: no key schedule per packet. */
	if (!EVP_MAC_init(sa->mac, NULL, 0, NULL) || !EVP_MAC_update(sa->mac, p, len) ||
	    !EVP_MAC_final(sa->mac, md, &mdlen, EVP_MAX_MD_SIZE) || mdlen < sa->icv_len)
		return KZ_EIO;
	return 0;
}

static int cbc_iv(struct esp_sa *sa, uint32_t seq, uint8_t *iv)
{
	uint8_t in[16] = { 0 }, outb[32];
	int n = 0;

	put_be32(in + 4, seq);
	put_be32(in + 8, sa->spi);
	if (!EVP_EncryptUpdate(sa->ivgen, outb, &n, in, sizeof(in)) || n != 16)
		return KZ_EIO;
	memcpy(iv, outb, sa->iv_len);
	return 0;
}

int esp_encap(struct esp_sa *sa, const uint8_t *inner, size_t len, uint8_t *out, size_t cap,
	      size_t *outlen)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	uint8_t nonce[ESP_GCM_NONCE_LEN];
	size_t total, body, padlen, i;
	uint8_t *iv, *payload;
	struct esp_sa *c = sa->ctr; /* sequence number, state, counters */
	uint64_t seq64, before;
	bool claimed = false;
	uint32_t seq;
	int n, err = KZ_EINVAL;

	if (sa->dir != KZ_CHILD_OUT || len == 0 || len > 0xffff)
		goto out;
	/* RFC 4303 3.3.3: without ESN the counter must not cycle; the SA
	 * has to be rekeyed before 2^32 - 1 was used. */
	if (atomic_load_explicit(&c->seq_next, memory_order_relaxed) >= ESP_SEQ_LIMIT) {
		c->state = ESP_SA_SEQ_EXHAUSTED;
		err = KZ_ERANGE;
		goto out;
	}
	/* RFC 4301 4.4.2.1: the hard byte lifetime ends the SA. */
	if (sa->life_bytes && esp_stat_get(&c->bytes) >= sa->life_bytes) {
		c->state = ESP_SA_EXPIRED_BYTES;
		err = KZ_ERANGE;
		goto out;
	}
	total = esp_sa_encap_len(sa, len);
	if (cap < total) {
		err = KZ_ENOSPC;
		goto out;
	}
	/* Several threads may send on one SA (esp_sa_new_shared): the number
	 * and the bytes are claimed with one fetch-add each, so no number is
	 * used twice or wraps, and one packet at most crosses the byte
	 * lifetime, as with one sender. */
	seq64 = atomic_fetch_add_explicit(&c->seq_next, 1, memory_order_relaxed);
	if (seq64 >= ESP_SEQ_LIMIT) {
		c->state = ESP_SA_SEQ_EXHAUSTED;
		err = KZ_ERANGE;
		goto out;
	}
	before = atomic_fetch_add_explicit(&c->bytes, len, memory_order_relaxed);
	claimed = true;
	if (sa->life_bytes && before >= sa->life_bytes) {
		c->state = ESP_SA_EXPIRED_BYTES;
		err = KZ_ERANGE;
		goto out;
	}
	seq = (uint32_t)seq64;
	body = total - ESP_HDR_LEN - sa->iv_len - sa->icv_len;
	padlen = body - len - 2;

	put_be32(out, sa->spi);
	put_be32(out + 4, seq);
	iv = out + ESP_HDR_LEN;
	payload = iv + sa->iv_len;
	/* The caller may have built the packet in place already. */
	if (payload != inner)
		memmove(payload, inner, len);
	/* RFC 4303 2.4: default padding bytes 1, 2, 3, ... */
	for (i = 0; i < padlen; i++)
		payload[len + i] = (uint8_t)(i + 1);
	payload[body - 2] = (uint8_t)padlen;
	payload[body - 1] = ESP_NH_IPV4;

	err = KZ_EIO;
	switch (sa->mode) {
	case ESP_MODE_GCM:
		memset(iv, 0, 4);
		put_be32(iv + 4, seq);
		gcm_nonce(sa, iv, nonce);
		/* RFC 4106 5: AAD = SPI | sequence number (32-bit). */
		if (!EVP_EncryptInit_ex(sa->cipher, NULL, NULL, NULL, nonce) ||
		    !EVP_EncryptUpdate(sa->cipher, NULL, &n, out, ESP_HDR_LEN) ||
		    !EVP_EncryptUpdate(sa->cipher, payload, &n, payload, (int)body) ||
		    (size_t)n != body || !EVP_EncryptFinal_ex(sa->cipher, payload + body, &n) ||
		    gcm_tag(sa, payload + body, false) < 0)
			goto out;
		break;
	case ESP_MODE_CBC:
		if (cbc_iv(sa, seq, iv) < 0 ||
		    !EVP_EncryptInit_ex(sa->cipher, NULL, NULL, NULL, iv) ||
		    !EVP_EncryptUpdate(sa->cipher, payload, &n, payload, (int)body) ||
		    (size_t)n != body)
			goto out;
		/* encrypt-then-MAC: the ICV follows as for NULL */
		__attribute__((fallthrough));
	case ESP_MODE_NULL:
		/* RFC 4303 3.3.4: ICV over SPI | seq | IV | ciphertext. */
		if (mac_compute(sa, out, ESP_HDR_LEN + sa->iv_len + body, md) < 0)
			goto out;
		memcpy(payload + body, md, sa->icv_len);
		break;
	}

	esp_stat_add(&c->packets, 1);
	esp_stat_time(&c->last_unix, now_unix());
	*outlen = total;
	err = 0;
out:
	/* Bytes claimed for a packet that is not sent are given back. */
	if (err < 0 && claimed)
		atomic_fetch_sub_explicit(&c->bytes, len, memory_order_relaxed);
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}

static bool prefix_contains(const struct kz_prefix *p, const uint8_t a[4])
{
	uint32_t addr, net, mask;

	if (!p->set || p->len == 0)
		return true;
	addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	net = ntohl(p->addr.s_addr);
	mask = p->len >= 32 ? UINT32_MAX : ~(UINT32_MAX >> p->len);
	return (addr & mask) == (net & mask);
}

/* The protocol and ports of an inbound SA's selector (RFC 4301 5.2): the
 * inner header is known to be whole (ihl * 4 <= totlen).  From the remote
 * side to the local one: the source port is the remote port.  With ports
 * set, a fragment other than the first has none to check: dropped. */
static bool l4_allowed(const struct esp_sa *sa, const uint8_t *ip, size_t totlen)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;

	if (!sa->ts_proto)
		return true;
	if (ip[9] != sa->ts_proto)
		return false;
	if (!sa->ts_lport && !sa->ts_rport)
		return true;
	if ((((size_t)ip[6] << 8 | ip[7]) & 0x1fff) || hl + 4 > totlen)
		return false;
	return (!sa->ts_rport || ((unsigned)ip[hl] << 8 | ip[hl + 1]) == sa->ts_rport) &&
		(!sa->ts_lport || ((unsigned)ip[hl + 2] << 8 | ip[hl + 3]) == sa->ts_lport);
}

/* RFC 4303 3.4.4.1 / 3.4.3 for HMAC SAs: the ICV over SPI .. ciphertext,
 * compared in constant time. */
static int verify_hmac(struct esp_sa *sa, const uint8_t *pkt, size_t authlen, const uint8_t *icv)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	int err = mac_compute(sa, pkt, authlen, md);

	if (err == 0 && CRYPTO_memcmp(md, icv, sa->icv_len) != 0)
		err = KZ_EPROTO;
	OPENSSL_cleanse(md, sizeof(md));
	return err;
}

/* RFC 4106: verify and decrypt in one pass; the caller does not look at
 * out unless this returned 0. */
static int gcm_open(struct esp_sa *sa, const uint8_t *pkt, const uint8_t *iv, const uint8_t *ct,
		    size_t ctlen, const uint8_t *icv, uint8_t *out)
{
	uint8_t nonce[ESP_GCM_NONCE_LEN];
	int n;

	gcm_nonce(sa, iv, nonce);
	if (!EVP_DecryptInit_ex(sa->cipher, NULL, NULL, NULL, nonce) ||
	    gcm_tag(sa, (uint8_t *)icv, true) < 0 ||
	    !EVP_DecryptUpdate(sa->cipher, NULL, &n, pkt, ESP_HDR_LEN) ||
	    !EVP_DecryptUpdate(sa->cipher, out, &n, ct, (int)ctlen) || (size_t)n != ctlen)
		return KZ_EIO;
	if (EVP_DecryptFinal_ex(sa->cipher, out + ctlen, &n) <= 0)
		return KZ_EPROTO;
	return 0;
}

int esp_decap(struct esp_sa *sa, const uint8_t *pkt, size_t len, uint8_t *inner_out, size_t cap,
	      size_t *inner_len, enum esp_drop *why)
{
	struct buf b, ctb, inb;
	const uint8_t *iv, *ct, *icv, *addrs;
	uint32_t spi, seq;
	uint16_t totlen;
	uint8_t vihl, padlen, nh, skip[2];
	size_t ctlen = 0, plen, i;
	bool decrypted = false;
	enum esp_drop drop = ESP_DROP_NONE;
	int n, err = KZ_EPROTO;

	*inner_len = 0;
	if (sa->dir != KZ_CHILD_IN) {
		*why = ESP_DROP_NONE;
		return KZ_EINVAL;
	}

	/* No IPv4 datagram is larger; keeps every length below INT_MAX for
	 * the EVP calls. */
	if (len > ESP_MAX_PACKET) {
		drop = ESP_DROP_OVERSIZE;
		goto out;
	}
	/* Bounds-parse: header and IV from the front, ICV from the tail;
	 * what is between is the ciphertext. */
	buf_init(&b, pkt, len);
	drop = ESP_DROP_TRUNCATED;
	if (buf_get_u32(&b, &spi) < 0 || buf_get_u32(&b, &seq) < 0 ||
	    buf_get_ptr(&b, sa->iv_len, &iv) < 0 || buf_left(&b) <= sa->icv_len)
		goto out;
	ctlen = buf_left(&b) - sa->icv_len;
	if (buf_get_sub(&b, ctlen, &ctb) < 0 || buf_get_ptr(&b, sa->icv_len, &icv) < 0 ||
	    buf_get_ptr(&ctb, ctlen, &ct) < 0)
		goto out;
	if (spi != sa->spi) {
		drop = ESP_DROP_BAD_SPI;
		goto out;
	}
	/* RFC 4303 2.4: the ciphertext fills whole cipher blocks and the
	 * ICV starts 4-byte aligned. */
	if (ctlen % sa->block != 0) {
		drop = ESP_DROP_MISALIGNED;
		goto out;
	}
	if (ctlen < 2 || ctlen < sa->block) {
		drop = ESP_DROP_TRUNCATED;
		goto out;
	}
	if (cap < ctlen) {
		drop = ESP_DROP_NO_SPACE;
		err = KZ_ENOSPC;
		goto out;
	}
	if (sa->life_bytes && esp_stat_get(&sa->bytes) >= sa->life_bytes) {
		sa->state = ESP_SA_EXPIRED_BYTES;
		drop = ESP_DROP_EXPIRED;
		goto out;
	}
	/* RFC 4303 3.4.3: the cheap replay check before the ICV ... */
	if (replay_check(&sa->replay, seq) < 0) {
		drop = ESP_DROP_REPLAY;
		goto out;
	}
	/* ... then the ICV (RFC 4303 3.4.4) ... */
	if (sa->mode == ESP_MODE_GCM) {
		err = gcm_open(sa, pkt, iv, ct, ctlen, icv, inner_out);
		decrypted = true;
	} else {
		err = verify_hmac(sa, pkt, ESP_HDR_LEN + sa->iv_len + ctlen, icv);
	}
	if (err < 0) {
		drop = err == KZ_EPROTO ? ESP_DROP_ICV : ESP_DROP_CRYPTO;
		goto out;
	}
	err = KZ_EPROTO;
	/* ... and only an authentic packet moves the window. */
	if (replay_commit(&sa->replay, seq) < 0) {
		drop = ESP_DROP_REPLAY;
		goto out;
	}

	/* RFC 4303 3.4.4.2: decrypt. */
	if (sa->mode == ESP_MODE_CBC) {
		decrypted = true;
		if (!EVP_DecryptInit_ex(sa->cipher, NULL, NULL, NULL, iv) ||
		    !EVP_DecryptUpdate(sa->cipher, inner_out, &n, ct, (int)ctlen) ||
		    (size_t)n != ctlen) {
			drop = ESP_DROP_CRYPTO;
			err = KZ_EIO;
			goto out;
		}
	} else if (sa->mode == ESP_MODE_NULL) {
		decrypted = true;
		memcpy(inner_out, ct, ctlen);
	}

	/* Trailer: pad length and next header are the last two bytes; the
	 * padding must be 1, 2, 3, ... (RFC 4303 2.4 default, checked as
	 * strongSwan and the Linux stack do). */
	nh = inner_out[ctlen - 1];
	padlen = inner_out[ctlen - 2];
	if ((size_t)padlen + 2 > ctlen) {
		drop = ESP_DROP_PADDING;
		goto out;
	}
	plen = ctlen - 2 - padlen;
	for (i = 0; i < padlen; i++) {
		if (inner_out[plen + i] != (uint8_t)(i + 1)) {
			drop = ESP_DROP_PADDING;
			goto out;
		}
	}
	/* RFC 4303 2.6: next header 59 marks a dummy (TFC) packet. */
	if (nh == ESP_NH_DUMMY) {
		drop = ESP_DROP_DUMMY;
		goto out;
	}
	if (nh != ESP_NH_IPV4) {
		drop = ESP_DROP_NEXT_HEADER;
		goto out;
	}

	/* The inner IPv4 header: version, header length and total length
	 * must fit what was decrypted; bytes past the total length are TFC
	 * padding (RFC 4303 2.4) and are cut off. */
	buf_init(&inb, inner_out, plen);
	drop = ESP_DROP_INNER_HEADER;
	if (buf_get_u8(&inb, &vihl) < 0 || buf_get_bytes(&inb, skip, 1) < 0 ||
	    buf_get_u16(&inb, &totlen) < 0 || buf_skip(&inb, 8) < 0 ||
	    buf_get_ptr(&inb, 8, &addrs) < 0)
		goto out;
	if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5 || totlen < (vihl & 0x0f) * 4 || totlen > plen)
		goto out;

	/* RFC 4301 5.2: the inner addresses must match the SA's selectors:
	 * from the remote network to the local one. */
	if (!prefix_contains(&sa->remote_ts, addrs) || !prefix_contains(&sa->local_ts, addrs + 4) ||
	    !l4_allowed(sa, inner_out, totlen)) {
		drop = ESP_DROP_SELECTOR;
		goto out;
	}

	esp_stat_add(&sa->packets, 1);
	esp_stat_add(&sa->bytes, totlen);
	esp_stat_time(&sa->last_unix, now_unix());
	*inner_len = totlen;
	drop = ESP_DROP_NONE;
	err = 0;
out:
	if (drop != ESP_DROP_NONE) {
		esp_stat_add(&sa->drops[drop], 1);
		if (err == 0)
			err = KZ_EPROTO;
		/* Plaintext of a refused packet does not stay behind. */
		if (decrypted)
			kz_wipe(inner_out, ctlen);
	}
	*why = drop;
	return err;
}

int esp_packet_spi(const uint8_t *pkt, size_t len, uint32_t *spi)
{
	struct buf b;

	buf_init(&b, pkt, len);
	if (len < ESP_HDR_LEN || buf_get_u32(&b, spi) < 0)
		return KZ_ETRUNC;
	/* RFC 4303 2.1: SPI 0 is reserved and never on the wire. */
	return *spi == 0 ? KZ_EPROTO : 0;
}

int esp_packet_seq(const uint8_t *pkt, size_t len, uint32_t *seq)
{
	struct buf b;

	buf_init(&b, pkt, len);
	if (buf_skip(&b, 4) < 0 || buf_get_u32(&b, seq) < 0)
		return KZ_ETRUNC;
	return 0;
}
