/* test_dp_table.c - the data plane's tables and their reclamation
 * (src/dp/dp_table.c) without threads or sockets: inbound lookup by SPI,
 * outbound pairs grouped by interface in their order, old tables kept
 * while a worker is inside the section it was in, typed counters, and the
 * MSS clamp with its checksum update (src/dp/mss.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dp/dp.h"
#include "dp/dp_int.h"
#include "dp/mss.h"

#include "esp_fixture.h"
#include "test_main.h"

static void sa(struct kz_child_sa *p, enum kz_child_dir dir, uint32_t spi, unsigned unit)
{
	memset(p, 0, sizeof(*p));
	p->dir = dir;
	p->spi = spi;
	p->ipsec_unit = unit;
	p->enc = KZ_ENC_AES_GCM_128;
	p->auth = KZ_AUTH_NONE;
	p->enc_key_len = 20;
	for (size_t i = 0; i < p->enc_key_len; i++)
		p->enc_key[i] = (uint8_t)(i * 3 + spi);
	p->replay_window = 64;
	p->local.sin_family = p->peer.sin_family = AF_INET;
	p->local_ts.set = p->remote_ts.set = true;
}

static struct dp *new_dp(void)
{
	struct dp_ops ops = { 0 };
	struct dp *dp = dp_new(2, &ops);

	assert_non_null(dp);
	return dp;
}

static void add(struct dp *dp, uint32_t spi_in, uint32_t spi_out, unsigned unit)
{
	struct kz_child_sa in, out;

	sa(&in, KZ_CHILD_IN, spi_in, unit);
	sa(&out, KZ_CHILD_OUT, spi_out, unit);
	assert_int_equal(dp_sa_add(dp, &in, &out), 0);
}

static void lookup_by_spi_and_unit(void **state)
{
	struct dp *dp = new_dp();
	struct dp_table *t;

	/* Enough pairs to fill several hash slots with collisions. */
	for (uint32_t i = 0; i < 300; i++)
		add(dp, 0x1000 + i * 64, 0x9000 + i, i % 3 == 0 ? 7 : 2);
	t = atomic_load(&dp->table);
	assert_int_equal(t->n, 300);
	for (uint32_t i = 0; i < 300; i++) {
		struct dp_sa *p = dp_find_in(t, 0x1000 + i * 64);

		assert_non_null(p);
		assert_int_equal(p->out.spi, 0x9000 + i);
	}
	assert_null(dp_find_in(t, 0x1001));
	assert_null(dp_find_in(t, 0));
	/* IPsec7: every third pair, oldest first; IPsec2 the rest. */
	assert_int_equal(t->out_at[8] - t->out_at[7], 100);
	assert_int_equal(t->out_at[3] - t->out_at[2], 200);
	assert_int_equal(t->out_at[1] - t->out_at[0], 0);
	for (uint32_t k = t->out_at[7]; k + 1 < t->out_at[8]; k++) {
		assert_int_equal(t->out[k]->out.ipsec_unit, 7);
		assert_true(t->out[k]->out.spi < t->out[k + 1]->out.spi);
	}
	dp_sa_del(dp, 0x1000, 0x9000);
	t = atomic_load(&dp->table);
	assert_int_equal(t->n, 299);
	assert_null(dp_find_in(t, 0x1000));
	assert_non_null(dp_find_in(t, 0x1040));
	assert_int_equal(t->out_at[8] - t->out_at[7], 99);
	dp_free(dp);
}

/* A worker inside a section keeps the table it loaded (and a pair gone
 * from the newer one) until it leaves that section; the control side
 * never waits for it. */
static void reclaim_after_grace(void **state)
{
	struct dp *dp = new_dp();

	dp->threads_up = true;               /* as if: the counters below stand for them */
	atomic_store(&dp->w[0]->section, 5); /* inside a section */
	atomic_store(&dp->w[1]->section, 8); /* waiting in epoll */
	add(dp, 0x100, 0x200, 0);
	assert_true(dp_reclaim(dp));
	dp_sa_del(dp, 0x100, 0x200);
	assert_true(dp_reclaim(dp));
	atomic_store(&dp->w[1]->section, 9); /* a new section: no matter */
	assert_true(dp_reclaim(dp));
	atomic_store(&dp->w[0]->section, 6); /* left it */
	add(dp, 0x101, 0x201, 0);            /* published behind w[1]'s 9 */
	assert_true(dp_reclaim(dp));
	atomic_store(&dp->w[1]->section, 10);
	assert_false(dp_reclaim(dp));
	dp->threads_up = false;
	dp_free(dp);
}

static void typed_stats(void **state)
{
	struct dp *dp = new_dp();
	struct kz_child_stats cs;
	struct dp_stats st;

	add(dp, 0x100, 0x200, 3);
	add(dp, 0x101, 0x201, 4);
	assert_int_equal(dp_stats_get(dp, &st), 0);
	assert_int_equal(st.nworkers, 2);
	assert_int_equal(st.nsa, 2);
	assert_int_equal(st.sa[0].spi, 0x100);
	assert_int_equal(st.sa[1].unit, 4);
	assert_int_equal(st.sa[1].drops[ESP_DROP_COUNT - 1], 0);
	dp_stats_clear(&st);
	assert_null(st.sa);
	dp_sa_stats(dp, 0x201, KZ_CHILD_OUT, &cs);
	assert_int_equal(cs.packets, 0);
	assert_int_equal(dp_stats_get(NULL, &st), 0);
	assert_int_equal(st.nsa, 0);
	dp_free(dp);
}

static uint16_t csum(const uint8_t *p, size_t len, uint32_t sum)
{
	return (uint16_t)~esp_fixture_fold(esp_fixture_sum(sum, p, len));
}

/* The TCP checksum over the pseudo-header and segment: 0 when right. */
static uint16_t tcp_check(const uint8_t *ip, size_t len)
{
	uint32_t pseudo = 6 + (uint32_t)(len - 20);

	for (int i = 12; i < 20; i += 2)
		pseudo += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	return csum(ip + 20, len - 20, pseudo);
}

static size_t syn(uint8_t *pkt, uint16_t mss, uint8_t flags)
{
	size_t len = 20 + 24;
	uint16_t s;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	pkt[3] = (uint8_t)len;
	pkt[8] = 64;
	pkt[9] = 6;
	memcpy(pkt + 12, (uint8_t[]){ 192, 168, 1, 2, 192, 168, 2, 3 }, 8);
	pkt[20] = 0x30; /* ports */
	pkt[23] = 0x50;
	pkt[32] = 6 << 4; /* 24-byte header */
	pkt[33] = flags;
	memcpy(pkt + 40, (uint8_t[]){ 2, 4, (uint8_t)(mss >> 8), (uint8_t)mss }, 4);
	s = tcp_check(pkt, len);
	pkt[36] = (uint8_t)(s >> 8);
	pkt[37] = (uint8_t)s;
	return len;
}

static void mss_clamp(void **state)
{
	uint8_t pkt[64];
	size_t len = syn(pkt, 1460, 0x02);

	assert_int_equal(tcp_check(pkt, len), 0);
	dp_mss_clamp(pkt, len, 1356);
	assert_int_equal(pkt[42] << 8 | pkt[43], 1356);
	assert_int_equal(tcp_check(pkt, len), 0);
	/* Below the limit, or not a SYN: untouched. */
	len = syn(pkt, 1200, 0x02);
	dp_mss_clamp(pkt, len, 1356);
	assert_int_equal(pkt[42] << 8 | pkt[43], 1200);
	len = syn(pkt, 1460, 0x10);
	dp_mss_clamp(pkt, len, 1356);
	assert_int_equal(pkt[42] << 8 | pkt[43], 1460);
	/* Cut short: nothing read past the end. */
	len = syn(pkt, 1460, 0x02);
	dp_mss_clamp(pkt, 42, 1356);
	assert_int_equal(pkt[42] << 8 | pkt[43], 1460);
}

KZ_TEST_MAIN(NULL, NULL, cmocka_unit_test(lookup_by_spi_and_unit),
	     cmocka_unit_test(reclaim_after_grace), cmocka_unit_test(typed_stats),
	     cmocka_unit_test(mss_clamp))
