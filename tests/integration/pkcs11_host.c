/* A C program using libsoftscm-pkcs11.so the way daemons do (run by test_pkcs11.py): it loads the
 * library with dlopen, signs from several threads at once, then forks; the child must get
 * CKR_CRYPTOKI_NOT_INITIALIZED until it initialises again, and both go on signing.
 * Prints one line per check: "name rv". Exit status 0 when it ran to the end. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef struct { CK_ULONG mechanism; void *pParameter; CK_ULONG ulParameterLen; } CK_MECHANISM;
typedef CK_RV (*init_fn)(void *);
typedef CK_RV (*slots_fn)(unsigned char, CK_ULONG *, CK_ULONG *);
typedef CK_RV (*open_fn)(CK_ULONG, CK_ULONG, void *, void *, CK_ULONG *);
typedef CK_RV (*close_fn)(CK_ULONG);
typedef CK_RV (*sign_init_fn)(CK_ULONG, CK_MECHANISM *, CK_ULONG);
typedef CK_RV (*sign_fn)(CK_ULONG, unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);

static init_fn C_Initialize;
static slots_fn C_GetSlotList;
static open_fn C_OpenSession;
static close_fn C_CloseSession;
static sign_init_fn C_SignInit;
static sign_fn C_Sign;

#define THREADS 4
#define SIGNS 25

/* open a session and sign SIGNS digests with slot 0's key (private key handle 1) */
static CK_RV sign_many(void)
{
    CK_MECHANISM ecdsa = {0x1041, NULL, 0};
    unsigned char digest[32], signature[64];
    CK_ULONG session, length;
    CK_RV rv = C_OpenSession(0, 4, NULL, NULL, &session);
    for (int i = 0; rv == 0 && i < SIGNS; i++) {
        memset(digest, i, sizeof digest);
        length = sizeof signature;
        rv = C_SignInit(session, &ecdsa, 1);
        if (rv == 0)
            rv = C_Sign(session, digest, sizeof digest, signature, &length);
        if (rv == 0 && length != 64)
            rv = 0x5;
    }
    if (rv == 0)
        rv = C_CloseSession(session);
    return rv;
}

static void *worker(void *result)
{
    *(CK_RV *)result = sign_many();
    return NULL;
}

int main(int argc, char **argv)
{
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL || argc < 2) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
        return 2;
    }
    C_Initialize = (init_fn)dlsym(lib, "C_Initialize");
    C_GetSlotList = (slots_fn)dlsym(lib, "C_GetSlotList");
    C_OpenSession = (open_fn)dlsym(lib, "C_OpenSession");
    C_CloseSession = (close_fn)dlsym(lib, "C_CloseSession");
    C_SignInit = (sign_init_fn)dlsym(lib, "C_SignInit");
    C_Sign = (sign_fn)dlsym(lib, "C_Sign");

    struct { void *create, *destroy, *lock, *unlock; CK_ULONG flags; void *reserved; } args = {0, 0, 0, 0, 2, 0};
    printf("initialize %lu\n", C_Initialize(&args)); /* CKF_OS_LOCKING_OK */

    pthread_t threads[THREADS];
    CK_RV results[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, worker, &results[i]);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        printf("thread %lu\n", results[i]);
    }
    fflush(stdout);

    pid_t child = fork();
    if (child == 0) {
        CK_ULONG count = 0;
        printf("child_before_init %lu\n", C_GetSlotList(1, NULL, &count));
        printf("child_initialize %lu\n", C_Initialize(NULL));
        printf("child_signs %lu\n", sign_many());
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    printf("child_exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
    printf("parent_signs %lu\n", sign_many());
    return 0;
}
