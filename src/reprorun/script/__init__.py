"""Reading and editing scripts: the block scanner and parser, cells, notebooks, inference, safe rewrite."""
