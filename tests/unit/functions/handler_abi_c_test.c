/* handler_abi.h as C99: this file must compile with
 * -std=c99 -Wall -Wextra -pedantic -Werror (the header promises C), and its
 * checks pin down the parts of the layout the ABI says never move. Built and
 * run as a ctest (label unit); exit status 0 means pass. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "eddy/functions/handler_abi.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* A C handler's view of a value: sums every number in a tree, the way C code
 * walks the union. */
static double SumNumbers(const eddy_value_t* v) {
  double sum = 0;
  size_t i;
  switch ((eddy_value_type_t)v->type) {
    case EDDY_VALUE_N:
      sum += (double)(v->u.scalar.data[0] - '0');
      break;
    case EDDY_VALUE_M:
      for (i = 0; i < v->u.map.count; ++i) {
        sum += SumNumbers(&v->u.map.entries[i].value);
      }
      break;
    case EDDY_VALUE_L:
      for (i = 0; i < v->u.list.count; ++i) {
        sum += SumNumbers(&v->u.list.items[i]);
      }
      break;
    default:
      break;
  }
  return sum;
}

int main(void) {
  eddy_value_t two, list_items[2], root;
  eddy_attribute_t entries[2];
  eddy_handler_t handler;
  eddy_host_api_t host;

  /* The host can always read a handler's size and version. */
  CHECK(offsetof(eddy_handler_t, struct_size) == 0);
  CHECK(offsetof(eddy_handler_t, abi_version) == 4);
  CHECK(EDDY_HANDLER_ABI_VERSION == 1u);
  CHECK(strcmp(EDDY_HANDLER_ENTRY_SYMBOL, "eddy_handler_init") == 0);

  /* EDDY_ABI_HAS_FIELD: a struct from an older peer lacks its tail. */
  memset(&handler, 0, sizeof(handler));
  handler.struct_size = (uint32_t)offsetof(eddy_handler_t, destroy);
  CHECK(EDDY_ABI_HAS_FIELD(&handler, eddy_handler_t, handle_batch));
  CHECK(!EDDY_ABI_HAS_FIELD(&handler, eddy_handler_t, destroy));
  memset(&host, 0, sizeof(host));
  host.struct_size = (uint32_t)sizeof(host);
  CHECK(EDDY_ABI_HAS_FIELD(&host, eddy_host_api_t, result_set_window_state));

  /* A tree built and walked in plain C: {"a": 2, "l": [2, "x"]}. */
  memset(&two, 0, sizeof(two));
  two.type = EDDY_VALUE_N;
  two.u.scalar.data = "2";
  two.u.scalar.size = 1;
  list_items[0] = two;
  memset(&list_items[1], 0, sizeof(list_items[1]));
  list_items[1].type = EDDY_VALUE_S;
  list_items[1].u.scalar.data = "x";
  list_items[1].u.scalar.size = 1;
  entries[0].name.data = "a";
  entries[0].name.size = 1;
  entries[0].value = two;
  entries[1].name.data = "l";
  entries[1].name.size = 1;
  memset(&entries[1].value, 0, sizeof(entries[1].value));
  entries[1].value.type = EDDY_VALUE_L;
  entries[1].value.u.list.items = list_items;
  entries[1].value.u.list.count = 2;
  memset(&root, 0, sizeof(root));
  root.type = EDDY_VALUE_M;
  root.u.map.entries = entries;
  root.u.map.count = 2;
  CHECK(SumNumbers(&root) == 4.0);

  if (failures == 0) printf("handler_abi.h: C99 checks passed\n");
  return failures == 0 ? 0 : 1;
}
