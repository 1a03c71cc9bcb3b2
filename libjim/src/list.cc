// The C functions of jim_list.
#include "list.hh"
#include "guard.hh"

JIM_EXTERN(size_t) jim_list_count(const jim_list *list)
{
    return list ? list->items.size() : 0;
}

JIM_EXTERN(const jim_msg *) jim_list_get(const jim_list *list, size_t i)
{
    if (!list || i >= list->items.size())
        return nullptr;
    return list->items[i].get();
}

JIM_EXTERN(void) jim_list_free(jim_list *list)
{
    delete list;
}
