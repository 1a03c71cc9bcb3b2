/**
 * @file jim/list.h
 * @brief Lists of JIM objects, as the client and the store return them.
 *
 * A ::jim_list is made by the function that returns it (jim_client_get_contacts(),
 * jim_store_history(), …) and freed by the caller with jim_list_free(). The objects
 * in it belong to the list.
 */
#ifndef JIM_LIST_H
#define JIM_LIST_H

#include "common.h"
#include "message.h"

JIM_BEGIN_DECL

/** A list of JIM objects (contacts, rooms, users, messages); see jim_list_get(). */
typedef struct jim_list jim_list;

/** Number of objects in the list (0 for NULL). */
JIM_EXTERN(size_t) jim_list_count(const jim_list *list);

/** The i-th object, owned by the list; NULL when i is out of range. */
JIM_EXTERN(const jim_msg *) jim_list_get(const jim_list *list, size_t i);

/** Frees a list; NULL is accepted. */
JIM_EXTERN(void) jim_list_free(jim_list *list);

JIM_END_DECL

#endif /* JIM_LIST_H */
