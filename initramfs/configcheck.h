/* The builder's check of a configuration against the initramfs it goes into
 * (configcheck.c). */
#ifndef CVMINIT_INITRAMFS_CONFIGCHECK_H
#define CVMINIT_INITRAMFS_CONFIGCHECK_H

#include "initramfs/cpio.h"

/* With the configuration at config_dest in t: a kbs key source whose KBS_CA
 * is not in t is an error (-1, message on stderr); no network driver among
 * t's modules, or NET_ADDRESS=dhcp without af_packet (in t or, when kmoddir
 * is given, in its modules.builtin), is a note. 0 otherwise, and when t has
 * no configuration or one the lexer refuses (the init says so at boot). */
int initramfs_check_config(const struct cpio_tree *t, const char *config_dest, const char *kmoddir);

#endif
