/* tpm2_facts_release(): the release build's configuration schema. */
#define FACTS_FN tpm2_facts_release
#include "crypto/host/tpm2_facts_body.h"
