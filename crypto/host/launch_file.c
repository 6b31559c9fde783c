/* See launch_file.h. */
#include "crypto/host/launch_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int launch_map(const char *path, uint64_t max, struct launch_map *m)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	m->data = NULL;
	m->len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		int e = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		close(fd);
		return e;
	}
	if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			int e = -errno;
			close(fd);
			return e;
		}
		m->data = p;
		m->len = (size_t)st.st_size;
	}
	close(fd);
	return 0;
}

void launch_unmap(struct launch_map *m)
{
	if (m->data)
		munmap((void *)m->data, m->len);
	m->data = NULL;
	m->len = 0;
}

int launch_file_digest(const char *path, mbedtls_md_type_t t, uint8_t *out)
{
	static uint8_t buf[1 << 20];
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(t);
	mbedtls_md_context_t c;
	int fd, r = 0;

	if (!info)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	mbedtls_md_init(&c);
	if (mbedtls_md_setup(&c, info, 0) || mbedtls_md_starts(&c))
		r = -ENOMEM;
	while (r == 0) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		if (n <= 0)
			break;
		if (mbedtls_md_update(&c, buf, (size_t)n))
			r = -EIO;
	}
	if (r == 0 && mbedtls_md_finish(&c, out))
		r = -EIO;
	mbedtls_md_free(&c);
	close(fd);
	return r;
}
