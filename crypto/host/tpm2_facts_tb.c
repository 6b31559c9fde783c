/* tpm2_facts_testbuild(): the test build's configuration schema (it has
 * the key-file keys, so its canonical text and digest differ). Links
 * against a copy of init/config.c compiled with CVMINIT_TEST_BUILD whose
 * global symbols crypto/crypto.mk renamed with the prefix tb_. */
#define CVMINIT_TEST_BUILD 1
#define cfg_defs tb_cfg_defs
#define config_defaults tb_config_defaults
#define config_parse_file tb_config_parse_file
#define config_parse_cmdline tb_config_parse_cmdline
#define config_validate tb_config_validate
#define config_check_policy tb_config_check_policy
#define config_canonical tb_config_canonical
#define config_split_args tb_config_split_args
#define cfg_str tb_cfg_str
#define cfg_uint tb_cfg_uint
#define cfg_u64 tb_cfg_u64
#define cfg_is tb_cfg_is
#define FACTS_FN tpm2_facts_testbuild
#include "crypto/host/tpm2_facts_body.h"
