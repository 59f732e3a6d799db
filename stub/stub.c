/*
 * shimulator-stub: the tiny executable every emulated process boots into.
 *
 * Why it exists
 * -------------
 * shimulator runs real Debian shared objects (glibc, libpcap, ...) inside an
 * emulated x86 CPU.  Shared objects cannot be started on their own: glibc only
 * becomes usable after the dynamic loader (ld.so) has mapped it, applied its
 * relocations, set up TLS, run every ELF constructor and executed libc's own
 * start-up code (__libc_start_main -> __libc_init_first, IRELATIVE/ifunc
 * resolution, stdio, locale, ...).  The simplest faithful way to get that
 * exact state is to let the real ld.so start a real, almost empty program.
 *
 * How the host uses it
 * --------------------
 *  1. The host maps this executable and its interpreter (ld.so) into guest
 *     memory and starts the guest at ld.so's entry point, like the kernel's
 *     execve would.
 *  2. ld.so loads libc.so.6 (our only DT_NEEDED; further libraries such as
 *     libpcap are loaded later by the host, e.g. through dlopen), runs the
 *     constructors and jumps to _start -> __libc_start_main -> main.
 *  3. main calls shimulator_ready().  The host looks that function up in this
 *     file's .dynsym and stops the emulator as soon as the program counter
 *     reaches its address.  From then on the process is fully initialised and
 *     the host drives it by calling library functions directly.
 *
 * The function body therefore never really needs to run; it only has to be a
 * real, separate, exported function that main really calls:
 *  - `noinline`/`noclone` keep it a distinct function the call jumps to;
 *  - `used` and default visibility, together with the linker flag
 *    --export-dynamic-symbol=shimulator_ready (see build-stub.sh), put it in
 *    .dynsym where the host can find it without a full symbol table;
 *  - the empty asm with a "memory" clobber is an opaque side effect, so the
 *    compiler can neither treat the function as pure nor delete the call;
 *  - main calls it in an endless loop, so even if the host resumed the guest
 *    the program would just stop at the same place again instead of exiting.
 */

/** Marker the host stops at once libc has finished starting up. */
__attribute__((visibility("default"), noinline, noclone, used))
void shimulator_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    for (;;) {
        shimulator_ready();
    }
}
