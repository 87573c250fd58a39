"""Automation rules: when (an event), if (conditions as in routing), then (actions). A
rule never fires again in the chain its own actions caused."""
