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
} shim_shared;

enum { STOP_NONE = 0, STOP_STOPPED = 1, STOP_BUDGET = 2, STOP_QUANTUM = 3 };

/* Bumped with any change JavaScript must agree with (layout, functions, semantics): HELPER_VERSION there. */
#define SHIM_COUNT_VERSION 1

typedef int32_t (*first_sight_fn)(uint64_t address, uint32_t size);
typedef void (*observe_fn)(uint64_t address, uint32_t size);
typedef void (*stop_fn)(void);

/* Open addressing with linear probing; keys are block start addresses. */
#define EMPTY UINT64_MAX
#define DELETED (UINT64_MAX - 1)
#define INITIAL_SLOTS 4096u

/* A key and its count side by side: a lookup touches one cache line. */
typedef struct {
  uint64_t key;
  uint64_t count;
} slot;

typedef struct {
  shim_shared shared; /* first: JavaScript's view starts at the state's address */
  first_sight_fn first_sight;
  observe_fn observe;
  stop_fn stop;
  slot *table;
  size_t slots; /* a power of two */
  size_t used;  /* live keys */
  size_t deleted;
} shim_state;

static size_t slot_of(uint64_t key, size_t slots) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  return (size_t)key & (slots - 1);
}

static int allocate(shim_state *s, size_t slots) {
  s->table = malloc(slots * sizeof *s->table);
  if (!s->table) return 0;
  for (size_t i = 0; i < slots; i++) s->table[i].key = EMPTY;
  s->slots = slots;
  s->used = 0;
  s->deleted = 0;
  return 1;
}

static void put(shim_state *s, uint64_t key, uint32_t count) {
  size_t i = slot_of(key, s->slots);
  while (s->table[i].key != EMPTY && s->table[i].key != key) i = (i + 1) & (s->slots - 1);
  if (s->table[i].key == EMPTY) s->used++;
  s->table[i].key = key;
  s->table[i].count = count;
}

/* Rebuilds the table (size `slots`) without deleted markers; on allocation failure keeps the old one. */
static void rehash(shim_state *s, size_t slots) {
  slot *table = s->table;
  size_t old = s->slots, used = s->used, deleted = s->deleted;
  if (!allocate(s, slots)) {
    s->table = table;
    s->slots = old;
    s->used = used;
    s->deleted = deleted;
    return;
  }
  for (size_t i = 0; i < old; i++) {
    if (table[i].key != EMPTY && table[i].key != DELETED) put(s, table[i].key, (uint32_t)table[i].count);
  }
  free(table);
}

/* The count of the block at `key`, or -1 when it has none. */
static int64_t find(const shim_state *s, uint64_t key) {
  size_t i = slot_of(key, s->slots);
  for (;;) {
    uint64_t k = s->table[i].key;
    if (k == key) return (int64_t)s->table[i].count;
    if (k == EMPTY) return -1;
    i = (i + 1) & (s->slots - 1);
  }
}

static void remember(shim_state *s, uint64_t key, uint32_t count) {
  /* Keep at most 3/4 of the slots taken (live or deleted), so that probes stay short and always end. */
  if ((s->used + s->deleted + 1) * 4 > s->slots * 3) {
    size_t slots = s->slots;
    while ((s->used + 1) * 2 > slots) slots *= 2; /* at most half full after the rebuild */
    rehash(s, slots);
  }
  if ((s->used + s->deleted + 1) * 4 > s->slots * 3) return; /* out of memory: count it, but ask again next time */
  put(s, key, count);
}

/* The hook Unicorn calls (UC_HOOK_BLOCK, uc_cb_hookcode_t); `user` is the state. */
static void shim_count_block(void *uc, uint64_t address, uint32_t size, void *user) {
  (void)uc;
  shim_state *s = user;
  shim_shared *sh = &s->shared;
  int64_t count = find(s, address);
  if (count < 0) {
    count = s->first_sight(address, size);
    if (count < 0) return; /* JavaScript stopped the run before this block (it patches it first) */
    remember(s, address, (uint32_t)count);
  }
  sh->count += (double)count;
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
  if (sh->observing) s->observe(address, size);
}

/* The hook's address, for uc_hook_add. */
void *shim_count_hook(void) {
  return (void *)shim_count_block;
}

void *shim_count_new(first_sight_fn first_sight, observe_fn observe, stop_fn stop) {
  shim_state *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (!allocate(s, INITIAL_SLOTS)) {
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
  shim_state *s = state;
  for (size_t i = 0; i < s->slots; i++) {
    uint64_t k = s->table[i].key;
    if (k != EMPTY && k != DELETED && k >= low && k < high) {
      s->table[i].key = DELETED;
      s->used--;
      s->deleted++;
    }
  }
}

/* Blocks with a remembered count (for tests and diagnostics). */
uint32_t shim_count_blocks(void *state) {
  return (uint32_t)((shim_state *)state)->used;
}

void shim_count_free(void *state) {
  shim_state *s = state;
  if (!s) return;
  free(s->table);
  free(s);
}
