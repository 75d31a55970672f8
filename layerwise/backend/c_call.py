"""Calling C functions by their address from compiled kernels: ``call``, ``pointer``, ``like``.

A compiled kernel could receive a ctypes function as an argument, but then every call of
the kernel pays for it. numba's dispatcher types ordinary arguments (ints, floats, arrays)
in C; a ctypes function it cannot fingerprint, so it types it in Python each call, and
when that fresh type's code does not match the compiled one's the call takes the
dispatcher's slow Python path: 60-200 µs per call, measured on 2026-12-04 for the split
matrix products of ``blas`` (a LeNet-5 layer's whole forward pass takes less). An
address is an int, which the dispatcher types in C; ``call`` turns it back into a
function pointer inside the compiled code:

    call(address, arg0, arg1, ...)          # void f(arg0, arg1, ...) at ``address``

Each argument goes to C as its numba type says: int32 → int, int64 → int64_t,
float32 → float, float64 → double, ``pointer(x)`` → void *; ``scalar(x)`` passes a float
as itself and an integer (a complex value's address) as a pointer. ``like(x, witness)`` converts
``x`` to the type of ``witness`` (e.g. a BLAS integer that is 32 or 64 bits wide,
depending on the library: the width is then part of the kernel's signature, so numba's
cache keeps one compiled version per width).
"""
try:
    from llvmlite import ir
    from numba import types
    from numba.core.errors import TypingError
    from numba.extending import intrinsic
except ImportError:     # pragma: no cover - without numba nothing calls these
    intrinsic = None

__all__ = ["call", "pointer", "like", "scalar"]

if intrinsic is not None:
    _C_TYPES = (types.int32, types.int64, types.float32, types.float64, types.voidptr)

    @intrinsic
    def call(typingctx, address, *args):
        """void f(args...) at the integer ``address``."""
        if not isinstance(address, types.Integer):
            raise TypingError(f"call: the address must be an integer, got {address}")
        for position, kind in enumerate(args):
            if kind not in _C_TYPES:
                raise TypingError(f"call: argument {position} has type {kind}; expected "
                                  f"one of {', '.join(map(str, _C_TYPES))}")
        signature = types.void(address, types.StarArgTuple(args))

        def codegen(context, builder, signature, values):
            address_value, packed = values
            arguments = [builder.extract_value(packed, i) for i in range(len(args))]
            function_type = ir.FunctionType(ir.VoidType(), [a.type for a in arguments])
            function = builder.inttoptr(address_value, function_type.as_pointer())
            builder.call(function, arguments)
            return context.get_dummy_value()
        return signature, codegen

    @intrinsic
    def pointer(typingctx, address):
        """The integer ``address`` as a void *."""
        if not isinstance(address, types.Integer):
            raise TypingError(f"pointer: expected an integer address, got {address}")

        def codegen(context, builder, signature, values):
            return builder.inttoptr(values[0], context.get_value_type(types.voidptr))
        return types.voidptr(address), codegen

    @intrinsic
    def scalar(typingctx, value):
        """A BLAS scalar argument: a float as itself, an integer (the address of a complex
        value, which the BLAS takes by pointer) as a void *."""
        if isinstance(value, types.Integer):
            def codegen(context, builder, signature, values):
                return builder.inttoptr(values[0], context.get_value_type(types.voidptr))
            return types.voidptr(value), codegen

        def codegen(context, builder, signature, values):
            return values[0]
        return value(value), codegen

    @intrinsic
    def like(typingctx, value, witness):
        """``value`` converted to the numeric type of ``witness``."""
        def codegen(context, builder, signature, values):
            return context.cast(builder, values[0], value, witness)
        return witness(value, witness), codegen
else:                   # pragma: no cover
    call = pointer = like = scalar = None
