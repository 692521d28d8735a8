"""Build ``libsoftscm-pkcs11.so`` with cffi's embedding mode.

    python -m softscm.pkcs11.build [--output PATH]

The library is a thin C shim around Python: it exports C_GetFunctionList and the 68 ``C_*``
functions; each one starts the embedded Python on first use (or joins the interpreter already
running in the process, as under python-pkcs11) and calls the entry point of the same name in
:mod:`softscm.pkcs11.glue`. If that start fails (softscm cannot be imported), every function
returns CKR_GENERAL_ERROR instead of cffi's silent 0 (which would read as CKR_OK).

In a process that is not Python (pkcs11-tool, ssh, openssl) the library starts the interpreter of
the environment it was built in (its ``python``, so that environment's packages import), and
registers fork handlers that take the interpreter's locks around ``fork()`` as ``os.fork()`` does;
it also makes libpython's symbols global (the host loaded it privately, as a dependency of this
library), since extension modules resolve them from the global scope.
The library is tied to that environment and that Python version: rebuild it after moving either.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from .paths import library_path

HERE = Path(__file__).parent
PREFIX = "softscm_py_"
_PROTOTYPE = re.compile(r"^CK_RV (C_\w+)\((.*)\);$")

INIT_CODE = """
from _softscm_pkcs11 import ffi, lib
from softscm.pkcs11.glue import install
install(ffi, lib.softscm_fork_generation)
"""

_SHIM = r"""
#include <dlfcn.h>
#include <pthread.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static int softscm_state; /* 0: Python not started yet, 1: ready, -1: the start failed */

static int softscm_ready(void)
{
    int state = __atomic_load_n(&softscm_state, __ATOMIC_ACQUIRE);
    if (state == 0) {
        state = softscm_py_start() == 1 ? 1 : -1;
        __atomic_store_n(&softscm_state, state, __ATOMIC_RELEASE);
    }
    return state == 1;
}

static unsigned long softscm_forks; /* how many forks led to this process (PKCS#11: re-initialise) */

unsigned long softscm_fork_generation(void)
{
    return __atomic_load_n(&softscm_forks, __ATOMIC_ACQUIRE);
}

static void softscm_count_fork(void)
{
    __atomic_add_fetch(&softscm_forks, 1, __ATOMIC_RELEASE);
}

static PyGILState_STATE softscm_fork_gil;
static int softscm_fork_held;

static void softscm_before_fork(void)
{
    softscm_fork_held = Py_IsInitialized();
    if (softscm_fork_held) {
        softscm_fork_gil = PyGILState_Ensure();
        PyOS_BeforeFork();
    }
}

static void softscm_after_fork_parent(void)
{
    if (softscm_fork_held) {
        PyOS_AfterFork_Parent();
        PyGILState_Release(softscm_fork_gil);
    }
}

static void softscm_after_fork_child(void)
{
    if (softscm_fork_held) {
        PyOS_AfterFork_Child();
        PyGILState_Release(softscm_fork_gil);
    }
}

__attribute__((constructor)) static void softscm_loaded(void)
{
    Dl_info python;
    pthread_atfork(NULL, NULL, softscm_count_fork);
    if (!Py_IsInitialized()) {
        /* loaded by a program that is not Python, with RTLD_LOCAL: make libpython's symbols global so
           that extension modules (which do not link libpython) resolve against it */
        if (dladdr((void *)Py_IsInitialized, &python) && python.dli_fname != NULL)
            dlopen(python.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
        Py_SetProgramName(SOFTSCM_PYTHON);
        pthread_atfork(softscm_before_fork, softscm_after_fork_parent, softscm_after_fork_child);
    }
}
"""


def prototypes() -> list[tuple[str, str]]:
    """``(name, parameters)`` of the 68 functions, in CK_FUNCTION_LIST order."""
    found = []
    for line in (HERE / "pkcs11_functions.h").read_text().splitlines():
        match = _PROTOTYPE.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def _arguments(parameters: str) -> str:
    return ", ".join(p.split()[-1] for p in parameters.split(",")) if parameters.strip() != "void" else ""


def _function_list() -> str:
    members = "\n".join(f"    CK_RV (*{name})({params});" for name, params in prototypes())
    return f"struct CK_FUNCTION_LIST {{\n    CK_VERSION version;\n{members}\n}};\n"


def _python_names() -> str:
    return "\n".join(f"CK_RV {PREFIX}{name}({params});" for name, params in prototypes()
                     if name != "C_GetFunctionList") + f"\nint {PREFIX}start(void);\n"


def _wrappers() -> str:
    out = []
    for name, params in prototypes():
        if name == "C_GetFunctionList":
            continue
        out.append(f"CK_RV {name}({params})\n{{\n    if (!softscm_ready())\n        return 5; /* CKR_GENERAL_ERROR */\n"
                   f"    return {PREFIX}{name}({_arguments(params)});\n}}\n")
    names = ",\n    ".join(name for name, _ in prototypes())
    out.append(f"static CK_FUNCTION_LIST softscm_function_list = {{\n    {{2, 40}},\n    {names}\n}};\n")
    out.append("CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)\n{\n"
               "    if (ppFunctionList == NULL)\n        return 7; /* CKR_ARGUMENTS_BAD */\n"
               "    *ppFunctionList = &softscm_function_list;\n    return 0;\n}\n")
    return "\n".join(out)


def _c_string(text: str) -> str:
    return 'L"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def builder(python: str) -> Any:
    """The cffi builder for the library, starting ``python``'s environment when embedded."""
    import cffi

    types = (HERE / "pkcs11_types.h").read_text()
    ffibuilder = cffi.FFI()
    ffibuilder.cdef(types + _function_list() + "unsigned long softscm_fork_generation(void);\n")
    ffibuilder.embedding_api(_python_names())
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    source = (f"{types}\n{_function_list()}\n{_python_names()}\n#define SOFTSCM_PYTHON {_c_string(python)}\n"
              f"{_SHIM}\n"
              + "\n".join(f"__attribute__((visibility(\"default\"))) CK_RV {name}({params});"
                          for name, params in prototypes()) + "\n" + _wrappers())
    ffibuilder.set_source("_softscm_pkcs11", source, library_dirs=[libdir] if libdir else [],
                          extra_link_args=[f"-Wl,-rpath,{libdir}"] if libdir else [], extra_compile_args=["-O2"])
    ffibuilder.embedding_init_code(INIT_CODE)
    return ffibuilder


def build(output: Path) -> Path:
    """Compile the library and install it at ``output`` (atomically replaced)."""
    with tempfile.TemporaryDirectory(prefix="softscm-pkcs11-") as tmp:
        built = Path(builder(sys.executable).compile(tmpdir=tmp, target="libsoftscm-pkcs11.*", verbose=False))
        output.parent.mkdir(parents=True, exist_ok=True)
        staged = output.with_name(f".{output.name}.tmp")
        shutil.copyfile(built, staged)
        os.chmod(staged, 0o755)
        os.replace(staged, output)
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description="Build libsoftscm-pkcs11.so (cffi embedding).")
    parser.add_argument("--output", type=Path, default=library_path(), help="where to put the library")
    options = parser.parse_args()
    print(build(options.output))


if __name__ == "__main__":
    main()
