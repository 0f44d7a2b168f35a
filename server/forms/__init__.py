"""WTForms, one module per area. Labels use lazy_gettext."""
