/* image_elf.c - ELF executables through libelf: every PT_LOAD program
 * header with p_filesz > 0 is loaded at its physical address p_paddr (the
 * load address in flash, as objcopy -O binary does). Only 32-bit
 * little-endian ARM executables are accepted (the STM32G4 is a
 * Cortex-M4); the identification bytes are checked before libelf sees the
 * file so the message says what is wrong. */
#include <elf.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>

#include "image_priv.h"

static int check_ident(struct img_build *b, const uint8_t *d, size_t n)
{
	if (n < EI_NIDENT)
		return img_fail(b, 0, "ELF header truncated: %zu bytes, expected at least %u", n,
				EI_NIDENT);
	if (memcmp(d, ELFMAG, SELFMAG))
		return img_fail(b, 0, "not an ELF file (bad magic)");
	if (d[EI_CLASS] != ELFCLASS32)
		return img_fail(b, 0, "ELF class %u (%s) not supported: expected a 32-bit ARM "
				"executable", d[EI_CLASS],
				d[EI_CLASS] == ELFCLASS64 ? "64-bit" : "unknown");
	if (d[EI_DATA] != ELFDATA2LSB)
		return img_fail(b, 0, "ELF data encoding %u (%s) not supported: expected a "
				"little-endian ARM executable", d[EI_DATA],
				d[EI_DATA] == ELFDATA2MSB ? "big-endian" : "unknown");
	if (d[EI_VERSION] != EV_CURRENT)
		return img_fail(b, 0, "ELF version %u not supported: expected %u", d[EI_VERSION],
				EV_CURRENT);
	if (n < sizeof(Elf32_Ehdr))
		return img_fail(b, 0, "ELF header truncated: %zu bytes, expected at least %zu", n,
				sizeof(Elf32_Ehdr));
	return 0;
}

int img_read_elf(struct img_build *b, const uint8_t *data, size_t len)
{
	Elf32_Ehdr *eh;
	size_t i, nph;
	Elf *elf;
	int rc;

	if ((rc = check_ident(b, data, len)))
		return rc;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return img_fail(b, 0, "libelf: %s", elf_errmsg(-1));
	/* libelf only reads the buffer (it is ours and already host order) */
	elf = elf_memory((char *)(uintptr_t)data, len);
	if (!elf)
		return img_fail(b, 0, "libelf: %s", elf_errmsg(-1));
	if (elf_kind(elf) != ELF_K_ELF) {
		rc = img_fail(b, 0, "not an ELF file");
		goto out;
	}
	eh = elf32_getehdr(elf);
	if (!eh) {
		rc = img_fail(b, 0, "bad ELF header: %s", elf_errmsg(-1));
		goto out;
	}
	if (eh->e_machine != EM_ARM) {
		rc = img_fail(b, 0, "ELF machine %u not supported: expected ARM (%u)",
			      eh->e_machine, EM_ARM);
		goto out;
	}
	if (eh->e_type != ET_EXEC) {
		rc = img_fail(b, 0, "ELF type %u not supported: expected an executable (%u)",
			      eh->e_type, ET_EXEC);
		goto out;
	}
	/* libelf silently reports 0 program headers when the table is cut
	 * off; say what is wrong instead (PN_XNUM counts are left to libelf) */
	if (eh->e_phnum && eh->e_phnum != PN_XNUM) {
		if (eh->e_phentsize != sizeof(Elf32_Phdr)) {
			rc = img_fail(b, 0, "e_phentsize %u, expected %zu", eh->e_phentsize,
				      sizeof(Elf32_Phdr));
			goto out;
		}
		if ((uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > len) {
			rc = img_fail(b, 0, "program header table at 0x%x (%u x %zu bytes) runs "
				      "past the end of the file (%zu bytes)", eh->e_phoff,
				      eh->e_phnum, sizeof(Elf32_Phdr), len);
			goto out;
		}
	}
	if (elf_getphdrnum(elf, &nph)) {
		rc = img_fail(b, 0, "bad program header count: %s", elf_errmsg(-1));
		goto out;
	}
	if (!nph) {
		rc = img_fail(b, 0, "ELF file has no program headers");
		goto out;
	}
	for (i = 0; i < nph; i++) {
		/* copied out by libelf: e_phoff need not be aligned */
		GElf_Phdr phdr, *p = gelf_getphdr(elf, (int)i, &phdr);

		if (!p) {
			rc = img_fail(b, 0, "program header %zu: %s", i, elf_errmsg(-1));
			goto out;
		}
		if (p->p_type != PT_LOAD || !p->p_filesz)
			continue;
		if (p->p_filesz > p->p_memsz) {
			rc = img_fail(b, 0, "program header %zu: p_filesz 0x%x larger than "
				      "p_memsz 0x%x", i, (unsigned)p->p_filesz, (unsigned)p->p_memsz);
			goto out;
		}
		if ((uint64_t)p->p_offset + p->p_filesz > len) {
			rc = img_fail(b, 0, "program header %zu: data at file offset 0x%x "
				      "(0x%x bytes) runs past the end of the file (%zu bytes)",
				      i, (unsigned)p->p_offset, (unsigned)p->p_filesz, len);
			goto out;
		}
		rc = img_add(b, (uint32_t)i, 0, (uint32_t)p->p_paddr, data + p->p_offset,
			     (size_t)p->p_filesz);
		if (rc)
			goto out;
	}
	b->entry = eh->e_entry;
	rc = 0;
out:
	elf_end(elf);
	return rc;
}
