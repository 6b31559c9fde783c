#ifndef CVMINIT_IMAGE_VERIFY_H
#define CVMINIT_IMAGE_VERIFY_H

/* cvminit image verify DISK --config CONF [--layout LAYOUT] [keys]: the
 * exit status (0 all ok, 1 any FAIL, 2 usage). */
int image_verify_main(int argc, char **argv);

#endif
