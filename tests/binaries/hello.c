#include <string.h>
#include <stdio.h>
int main(int argc, char **argv) {
    char buf[16];
#ifdef USE_STRLCPY
    strlcpy(buf, argc > 1 ? argv[1] : "hi", sizeof buf);
#else
    strncpy(buf, argc > 1 ? argv[1] : "hi", sizeof buf - 1); buf[15] = 0;
#endif
    puts(buf);
    return 0;
}
