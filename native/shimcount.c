/*
 * shimcount: shimulator's native block counter (see src/emu/native-counter.ts, which loads it through koffi).
 *
 * Unicorn calls `shim_count_block` before every translation block runs. It does in C what the JavaScript block
 * hook does in src/emu/block-counter.ts, with the same arithmetic (doubles, as JavaScript numbers): add the
 * block's instruction count, stop at the budget, stop at the scheduler quantum before the block that crosses it.
 * Only the first sight of a block crosses into JavaScript (`first_sight` gives its count, or -1 to leave it
 * unrun and uncounted), and every block when `observing` is set (`observe`: the ABI checker, traces).
 *
 * It links against nothing but the C library: it never calls Unicorn. Stopping the engine goes through `stop`,
 * a JavaScript callback, at most once per run (the stop reason is set first, and no block stops twice).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The part of the state JavaScript reads and writes in place (koffi.view); keep in step with native-counter.ts. */
typedef struct {
  double count;     /* instructions counted in this run */
  double budget;    /* stop (reason BUDGET) once count exceeds it */
  double quantum;   /* stop (reason QUANTUM) before the block that makes count exceed it */
  int32_t reason;   /* STOP_NONE, or why the run stopped */
  int32_t observing; /* nonzero: call `observe` for every block that runs */
  double last_block; /* the start of the last block that ran (counted): whether a run ended where expected */
} shim_shared;

enum { STOP_NONE = 0, STOP_STOPPED = 1, STOP_BUDGET = 2, STOP_QUANTUM = 3 };

/* Bumped with any change JavaScript must agree with (layout, functions, semantics): HELPER_VERSION there. */
#define SHIM_COUNT_VERSION 3

typedef int32_t (*first_sight_fn)(uint64_t address, uint32_t size);
typedef void (*observe_fn)(uint64_t address, uint32_t size);
typedef void (*stop_fn)(void);

/* Open addressing with linear probing; keys are block start addresses. */
#define EMPTY UINT64_MAX
#define DELETED (UINT64_MAX - 1)
#define INITIAL_SLOTS 4096u
#define INITIAL_SET_SLOTS 64u
/* Address sets that may filter observation at once (the ABI checker uses one; each observer may bring one). */
#define MAX_WATCHED_SETS 16

/* A key and its count side by side: a lookup touches one cache line. */
typedef struct {
  uint64_t key;
  uint64_t count;
} slot;

typedef struct {
  slot *slots;
  size_t size;  /* a power of two */
  size_t used;  /* live keys */
  size_t deleted;
} table;

typedef struct {
  shim_shared shared; /* first: JavaScript's view starts at the state's address */
  first_sight_fn first_sight;
  observe_fn observe;
  stop_fn stop;
  table blocks; /* instruction count per block start */
  table *watched[MAX_WATCHED_SETS]; /* address sets whose blocks are observed too (shim_set_*) */
  int watching;
} shim_state;

static size_t slot_of(uint64_t key, size_t size) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  return (size_t)key & (size - 1);
}

static int allocate(table *t, size_t size) {
  t->slots = malloc(size * sizeof *t->slots);
  if (!t->slots) return 0;
  for (size_t i = 0; i < size; i++) t->slots[i].key = EMPTY;
  t->size = size;
  t->used = 0;
  t->deleted = 0;
  return 1;
}

/*
 * Puts a key that is not in the table (every caller has looked first) into the first free or deleted slot of its
 * probe: a set that adds and removes the same return address on every call reuses its slot, instead of filling
 * the table with deleted markers that lengthen every lookup until the next rebuild.
 */
static void put(table *t, uint64_t key, uint32_t count) {
  size_t i = slot_of(key, t->size);
  while (t->slots[i].key != EMPTY && t->slots[i].key != DELETED) i = (i + 1) & (t->size - 1);
  if (t->slots[i].key == DELETED) t->deleted--;
  t->used++;
  t->slots[i].key = key;
  t->slots[i].count = count;
}

/* Rebuilds the table (`size` slots) without deleted markers; on allocation failure keeps the old one. */
static void rehash(table *t, size_t size) {
  table old = *t;
  if (!allocate(t, size)) {
    *t = old;
    return;
  }
  for (size_t i = 0; i < old.size; i++) {
    if (old.slots[i].key != EMPTY && old.slots[i].key != DELETED) put(t, old.slots[i].key, (uint32_t)old.slots[i].count);
  }
  free(old.slots);
}

/* The slot holding `key`, or -1 when it is absent. */
static int64_t index_of(const table *t, uint64_t key) {
  size_t i = slot_of(key, t->size);
  for (;;) {
    uint64_t k = t->slots[i].key;
    if (k == key) return (int64_t)i;
    if (k == EMPTY) return -1;
    i = (i + 1) & (t->size - 1);
  }
}

/* The count of the block at `key`, or -1 when it has none. */
static int64_t find(const table *t, uint64_t key) {
  int64_t i = index_of(t, key);
  return i < 0 ? -1 : (int64_t)t->slots[i].count;
}

/* Adds `key`; 0 when out of memory (nothing changed). */
static int remember(table *t, uint64_t key, uint32_t count) {
  /* Keep at most 3/4 of the slots taken (live or deleted), so that probes stay short and always end. */
  if ((t->used + t->deleted + 1) * 4 > t->size * 3) {
    size_t size = t->size;
    while ((t->used + 1) * 2 > size) size *= 2; /* at most half full after the rebuild */
    rehash(t, size);
  }
  if ((t->used + t->deleted + 1) * 4 > t->size * 3) return 0;
  put(t, key, count);
  return 1;
}

static void drop(table *t, size_t i) {
  t->slots[i].key = DELETED;
  t->used--;
  t->deleted++;
}

/* Whether a block starting at `address` is in one of the watched sets. */
static int watched(const shim_state *s, uint64_t address) {
  for (int i = 0; i < s->watching; i++) {
    if (index_of(s->watched[i], address) >= 0) return 1;
  }
  return 0;
}

/* The hook Unicorn calls (UC_HOOK_BLOCK, uc_cb_hookcode_t); `user` is the state. */
static void shim_count_block(void *uc, uint64_t address, uint32_t size, void *user) {
  (void)uc;
  shim_state *s = user;
  shim_shared *sh = &s->shared;
  int64_t count = find(&s->blocks, address);
  if (count < 0) {
    count = s->first_sight(address, size);
    if (count < 0) return; /* JavaScript stopped the run before this block (it patches it first) */
    remember(&s->blocks, address, (uint32_t)count); /* out of memory: count it, but ask again next time */
  }
  sh->count += (double)count;
  sh->last_block = (double)address;
  if (sh->reason == STOP_NONE) {
    if (sh->count > sh->budget) {
      sh->reason = STOP_BUDGET;
      s->stop();
    } else if (sh->count > sh->quantum) {
      /* The block that crossed the slice has not run yet: it runs first when this thread is resumed. */
      sh->count -= (double)count;
      sh->reason = STOP_QUANTUM;
      s->stop();
    }
  }
  if (sh->observing || (s->watching && watched(s, address))) s->observe(address, size);
}

/* The hook's address, for uc_hook_add. */
void *shim_count_hook(void) {
  return (void *)shim_count_block;
}

void *shim_count_new(first_sight_fn first_sight, observe_fn observe, stop_fn stop) {
  shim_state *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (!allocate(&s->blocks, INITIAL_SLOTS)) {
    free(s);
    return NULL;
  }
  s->first_sight = first_sight;
  s->observe = observe;
  s->stop = stop;
  return s;
}

uint32_t shim_count_version(void) {
  return SHIM_COUNT_VERSION;
}

/* Bytes of the shared part (native-counter.ts checks it against its own layout). */
uint32_t shim_count_shared_size(void) {
  return (uint32_t)sizeof(shim_shared);
}

/* Drops the counts of blocks starting in [low, high): they are asked for again at their next sight. */
void shim_count_forget(void *state, uint64_t low, uint64_t high) {
  table *t = &((shim_state *)state)->blocks;
  for (size_t i = 0; i < t->size; i++) {
    uint64_t k = t->slots[i].key;
    if (k != EMPTY && k != DELETED && k >= low && k < high) drop(t, i);
  }
}

/* Blocks with a remembered count (for tests and diagnostics). */
uint32_t shim_count_blocks(void *state) {
  return (uint32_t)((shim_state *)state)->blocks.used;
}

void shim_count_free(void *state) {
  shim_state *s = state;
  if (!s) return;
  free(s->blocks.slots);
  free(s);
}

/*
 * Address sets: the block starts a filtered observer wants. JavaScript keeps how often each address was added
 * (src/emu/address-set.ts) and adds or removes it here only when that count leaves or reaches zero.
 */
void *shim_set_new(void) {
  table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (!allocate(t, INITIAL_SET_SLOTS)) {
    free(t);
    return NULL;
  }
  return t;
}

/* 1 when added (or already there), 0 when out of memory. */
int32_t shim_set_add(void *set, uint64_t address) {
  table *t = set;
  return index_of(t, address) >= 0 || remember(t, address, 1);
}

void shim_set_remove(void *set, uint64_t address) {
  table *t = set;
  int64_t i = index_of(t, address);
  if (i >= 0) drop(t, (size_t)i);
}

void shim_set_free(void *set) {
  table *t = set;
  if (!t) return;
  free(t->slots);
  free(t);
}

/* Observes the blocks starting at an address in `set` (on), or stops (off); 0 when too many sets are watched. */
int32_t shim_count_watch(void *state, void *set, int32_t on) {
  shim_state *s = state;
  for (int i = 0; i < s->watching; i++) {
    if (s->watched[i] != set) continue;
    if (!on) s->watched[i] = s->watched[--s->watching];
    return 1;
  }
  if (!on) return 1;
  if (s->watching == MAX_WATCHED_SETS) return 0;
  s->watched[s->watching++] = set;
  return 1;
}
