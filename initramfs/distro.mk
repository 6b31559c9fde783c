# initramfs/: distro integration, cvminit as /init in an image made by dracut
# or initramfs-tools (see initramfs/README.md, "Distro integration").
#
#   make install-dracut DESTDIR=...           the dracut module 50cvminit
#   make install-initramfs-tools DESTDIR=...  the initramfs-tools hook
#   make distro-chroots                       the cached Debian chroots the
#                                             dracut-boot / initramfs-tools-boot
#                                             scenarios build their images in
#                                             (make check builds them first)
#
# Both install targets also install what the module and the hook use:
#   $(BINDIR)/cvminit                the host tool (module closure, load order)
#   $(CVMINIT_LIBDIR)/init           the release init ($(CVMINIT_INSTALL_INIT))
#   $(CVMINIT_LIBDIR)/modules        the default module list (qemu-tests/modules)
# Nothing under /etc is installed: the configuration, /etc/cvminit/cvminit.conf,
# is the image builder's.

PREFIX ?= /usr
BINDIR ?= $(PREFIX)/bin
CVMINIT_LIBDIR ?= $(PREFIX)/lib/cvminit
DRACUT_MODULES_DIR ?= $(PREFIX)/lib/dracut/modules.d
INITRAMFS_TOOLS_DIR ?= $(PREFIX)/share/initramfs-tools
CVMINIT_INSTALL_INIT ?= $(B)/init
CVMINIT_INSTALL_MODULES ?= qemu-tests/modules

.PHONY: install-cvminit-common install-dracut install-initramfs-tools distro-chroots

# The scripts carry the default paths in two lines that are rewritten here.
CVMINIT_PATHS_SED := -e 's|^cvminit_libdir=.*|cvminit_libdir=$(CVMINIT_LIBDIR)|' \
	-e 's|^cvminit_bindir=.*|cvminit_bindir=$(BINDIR)|'

install-cvminit-common: $(B)/cvminit $(CVMINIT_INSTALL_INIT)
	install -d '$(DESTDIR)$(BINDIR)' '$(DESTDIR)$(CVMINIT_LIBDIR)'
	install -m 0755 $(B)/cvminit '$(DESTDIR)$(BINDIR)/cvminit'
	install -m 0755 '$(CVMINIT_INSTALL_INIT)' '$(DESTDIR)$(CVMINIT_LIBDIR)/init'
	install -m 0644 '$(CVMINIT_INSTALL_MODULES)' '$(DESTDIR)$(CVMINIT_LIBDIR)/modules'

install-dracut: install-cvminit-common
	install -d '$(DESTDIR)$(DRACUT_MODULES_DIR)/50cvminit'
	sed $(CVMINIT_PATHS_SED) initramfs/dracut/50cvminit/module-setup.sh \
		> '$(DESTDIR)$(DRACUT_MODULES_DIR)/50cvminit/module-setup.sh'
	chmod 0755 '$(DESTDIR)$(DRACUT_MODULES_DIR)/50cvminit/module-setup.sh'

install-initramfs-tools: install-cvminit-common
	install -d '$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks'
	sed $(CVMINIT_PATHS_SED) initramfs/initramfs-tools/hooks/cvminit \
		> '$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/cvminit'
	chmod 0755 '$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/cvminit'

# The chroots of the scenarios qemu/dracut-boot and qemu/initramfs-tools-boot
# (qemu-tests/distro-chroot.sh: Debian minbase + the tool, built once into
# $(CVMINIT_CACHE)/chroots, about 1-2 minutes cold, nothing when cached).
distro-chroots:
	@qemu-tests/distro-chroot.sh ensure dracut >/dev/null
	@qemu-tests/distro-chroot.sh ensure initramfs-tools >/dev/null

# make check builds them before the scenarios run, so the (one-time) build is
# on screen and outside the scenarios' time limit. Not fatal: without root or
# network the two scenarios fail and say why.
CHECK_DEPS += distro-chroots-check
.PHONY: distro-chroots-check
distro-chroots-check:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "distro-chroot: not root: the dracut/initramfs-tools chroots cannot be built (their scenarios will fail)"; \
	elif ! { qemu-tests/distro-chroot.sh ensure dracut && \
		qemu-tests/distro-chroot.sh ensure initramfs-tools; } >/dev/null; then \
		echo "distro-chroot: building the chroots failed (see above); their scenarios will fail"; \
	fi
