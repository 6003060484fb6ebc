/* ahead: one etcd transaction over gRPC (see etcd_client.h, etcd_txn).
 *
 * The request is built as protobuf-c messages pointing into the caller's
 * keys and values (nothing copied until the pack), and the answer is given
 * back in the JSON gateway's shape, so the ledger reads a refused commit's
 * state the way it reads every other range. */
#include <stdlib.h>
#include <string.h>

#include "ahead/error.h"
#include "store/etcd_client.h"
#include "store/etcd_rpc.pb-c.h"

#define TXN_METHOD "/etcdserverpb.KV/Txn"

static ProtobufCBinaryData bin(const char *p, size_t n)
{
	return (ProtobufCBinaryData){.len = n, .data = (uint8_t *)(uintptr_t)p};
}

static ProtobufCBinaryData bins(const char *s)
{
	return bin(s, strlen(s));
}

/* The parts of a request, in one allocation's worth of arrays. */
typedef struct {
	Etcdserverpb__Compare *cmp, **cmpp;
	Etcdserverpb__RequestOp *ops, **opp, fop, *fopp;
	Etcdserverpb__PutRequest *puts;
	Etcdserverpb__DeleteRangeRequest *dels;
	Etcdserverpb__RangeRequest frange;
} txn_parts;

static void parts_free(txn_parts *p)
{
	free(p->cmp);
	free(p->cmpp);
	free(p->ops);
	free(p->opp);
	free(p->puts);
	free(p->dels);
}

static int parts_build(const etcd_txn_req *t, txn_parts *p, Etcdserverpb__TxnRequest *rq)
{
	size_t nc = t->n_cmp > 0 ? (size_t)t->n_cmp : 1, no = t->n_ops > 0 ? (size_t)t->n_ops : 1;
	p->cmp = calloc(nc, sizeof *p->cmp);
	p->cmpp = calloc(nc, sizeof *p->cmpp);
	p->ops = calloc(no, sizeof *p->ops);
	p->opp = calloc(no, sizeof *p->opp);
	p->puts = calloc(no, sizeof *p->puts);
	p->dels = calloc(no, sizeof *p->dels);
	if (!p->cmp || !p->cmpp || !p->ops || !p->opp || !p->puts || !p->dels)
		return AH_ENOMEM;
	for (int i = 0; i < t->n_cmp; i++) {
		Etcdserverpb__Compare *c = &p->cmp[i];
		etcdserverpb__compare__init(c);
		c->result = ETCDSERVERPB__COMPARE__COMPARE_RESULT__EQUAL;
		c->key = bins(t->cmp[i].key);
		switch (t->cmp[i].target) {
		case ETCD_CMP_CREATE:
			c->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE;
			c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION;
			c->create_revision = t->cmp[i].value;
			break;
		case ETCD_CMP_MOD:
			c->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD;
			c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION;
			c->mod_revision = t->cmp[i].value;
			break;
		default:
			c->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VERSION;
			c->target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION;
			c->version = t->cmp[i].value;
			break;
		}
		p->cmpp[i] = c;
	}
	for (int i = 0; i < t->n_ops; i++) {
		const etcd_op *o = &t->ops[i];
		Etcdserverpb__RequestOp *r = &p->ops[i];
		etcdserverpb__request_op__init(r);
		if (o->val) {
			etcdserverpb__put_request__init(&p->puts[i]);
			p->puts[i].key = bins(o->key);
			p->puts[i].value = bin(o->val, o->vlen);
			p->puts[i].lease = o->lease;
			r->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
			r->request_put = &p->puts[i];
		} else {
			etcdserverpb__delete_range_request__init(&p->dels[i]);
			p->dels[i].key = bins(o->key);
			if (o->end)
				p->dels[i].range_end = bins(o->end);
			r->request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE;
			r->request_delete_range = &p->dels[i];
		}
		p->opp[i] = r;
	}
	etcdserverpb__txn_request__init(rq);
	rq->n_compare = (size_t)(t->n_cmp > 0 ? t->n_cmp : 0);
	rq->compare = p->cmpp;
	rq->n_success = (size_t)(t->n_ops > 0 ? t->n_ops : 0);
	rq->success = p->opp;
	if (t->fail_from) {
		etcdserverpb__range_request__init(&p->frange);
		p->frange.key = bins(t->fail_from);
		if (t->fail_to)
			p->frange.range_end = bins(t->fail_to);
		etcdserverpb__request_op__init(&p->fop);
		p->fop.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE;
		p->fop.request_range = &p->frange;
		p->fopp = &p->fop;
		rq->n_failure = 1;
		rq->failure = &p->fopp;
	}
	return 0;
}

static int set_new(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

static json_t *kv_json(const Etcdserverpb__KeyValue *kv)
{
	json_t *o = json_object();
	if (!o || set_new(o, "key", etcd_b64(kv->key.data, kv->key.len)) ||
	    set_new(o, "value", etcd_b64(kv->value.data, kv->value.len)) ||
	    set_new(o, "create_revision", json_integer(kv->create_revision)) ||
	    set_new(o, "mod_revision", json_integer(kv->mod_revision)) ||
	    set_new(o, "version", json_integer(kv->version)) || set_new(o, "lease", json_integer(kv->lease))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *range_json(const Etcdserverpb__RangeResponse *rr)
{
	json_t *o = json_object(), *kvs = json_array();
	if (!o || set_new(o, "kvs", kvs) || set_new(o, "count", json_integer(rr->count)))
		goto bad;
	for (size_t i = 0; i < rr->n_kvs; i++)
		if (json_array_append_new(kvs, kv_json(rr->kvs[i])))
			goto bad;
	if (rr->more && set_new(o, "more", json_true()))
		goto bad;
	return o;
bad:
	json_decref(o);
	return NULL;
}

/* The answer as the gateway would write it (the parts the ledger reads). */
static json_t *answer_json(const Etcdserverpb__TxnResponse *r)
{
	json_t *o = json_object(), *h = json_object(), *rs = NULL;
	if (!o || set_new(o, "header", h) ||
	    set_new(h, "revision", json_integer(r->header ? r->header->revision : 0)) ||
	    set_new(o, "succeeded", json_boolean(r->succeeded)))
		goto bad;
	if (r->succeeded)
		return o;
	if (set_new(o, "responses", rs = json_array()))
		goto bad;
	for (size_t i = 0; i < r->n_responses; i++) {
		const Etcdserverpb__ResponseOp *op = r->responses[i];
		json_t *one = json_object();
		if (json_array_append_new(rs, one))
			goto bad;
		if (op->response_case == ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE &&
		    set_new(one, "response_range", range_json(op->response_range)))
			goto bad;
	}
	return o;
bad:
	json_decref(o);
	return NULL;
}

int etcd_txn(etcd_client *c, const etcd_txn_req *t, json_t **out)
{
	txn_parts p = {0};
	Etcdserverpb__TxnRequest rq;
	Etcdserverpb__TxnResponse *r = NULL;
	uint8_t *msg = NULL;
	int rc = parts_build(t, &p, &rq);
	if (rc < 0) {
		etcd_client_set_errmsg(c, "out of memory");
		goto out;
	}
	if (etcdserverpb__txn_request__get_packed_size(&rq) > UINT32_MAX) {
		rc = AH_ETOOBIG;
		etcd_client_set_errmsg(c, "a transaction of more than 4 GiB");
		goto out;
	}
	size_t n;
	if (!(msg = etcd_grpc_frame(&rq.base, &n))) {
		rc = AH_ENOMEM;
		goto out;
	}
	const void *ans;
	size_t ans_n;
	rc = etcd_call_grpc(c, TXN_METHOD, msg, n, &ans, &ans_n);
	if (rc < 0)
		goto out;
	r = etcdserverpb__txn_response__unpack(NULL, ans_n, ans);
	json_t *j = r ? answer_json(r) : NULL;
	if (!j) {
		rc = r ? AH_ENOMEM : AH_EPARSE;
		etcd_client_set_errmsg(c, r ? "out of memory" : "a Txn answer that is not a TxnResponse");
		goto out;
	}
	*out = j;
out:
	if (r)
		etcdserverpb__txn_response__free_unpacked(r, NULL);
	free(msg);
	parts_free(&p);
	return rc;
}
