"""Bootstrap: builds the typed Python API of a world from the host's JSON
descriptor, instantiates the app's export classes and routes export calls.

For a world importing ``i2c`` and exporting ``bme680-logic``:

* ``harvester.imports.i2c``: a module with ``transfer(addr, write_data,
  read_len)`` and the types ``i2c`` declares or uses;
* ``harvester.exports.bme680_logic``: the types ``bme680-logic`` declares
  or uses (records are dataclasses, enums enum.Enum, flags enum.Flag...);
* ``harvester.exports.Bme680Logic``: an optional base class for the app's
  ``class Bme680Logic`` (its methods raise NotImplementedError);
* the app's ``Bme680Logic()`` instance, whose methods the host calls through
  :func:`dispatch` and :func:`post_return`.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import json
import keyword
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any, Optional, Union

import _harvester

from . import _calls, _canon
from ._calls import Param, ReturnAreas
from ._canon import ValType

IMPORTS = "harvester.imports"
EXPORTS = "harvester.exports"

# ---- names -------------------------------------------------------------------


def _words(name: str) -> list[str]:
    return [w for w in name.split("-") if w]


def snake(name: str) -> str:
    """WIT kebab-case -> Python snake_case (``read-dht22`` -> ``read_dht22``),
    with ``_`` appended to Python keywords (``from`` -> ``from_``)."""
    s = "_".join(w.lower() for w in _words(name))
    return s + "_" if keyword.iskeyword(s) else s


def pascal(name: str) -> str:
    """WIT kebab-case -> PascalCase (``bme680-logic`` -> ``Bme680Logic``)."""
    return "".join(w[:1].upper() + w[1:].lower() for w in _words(name))


def upper_snake(name: str) -> str:
    """WIT kebab-case -> UPPER_SNAKE (``read-only`` -> ``READ_ONLY``)."""
    return "_".join(w.upper() for w in _words(name))


def interface_name(name: str) -> str:
    """``ns:pkg/i2c@1.0.0`` -> ``i2c``; plain names are unchanged."""
    return name.rsplit("/", 1)[-1].split("@", 1)[0]


# ---- types -------------------------------------------------------------------


class TypeTable:
    """The descriptor's type table as ValTypes; named types get their Python
    classes, defined in the module of their interface."""

    def __init__(self, entries: Sequence[dict[str, Any]], module_of: Callable[[str], str]) -> None:
        self.entries = entries
        self.module_of = module_of
        self.types: list[Optional[ValType]] = [None] * len(entries)
        self.building: set[int] = set()
        #: per type id of a named type: the names and objects a module exposes
        self.exposed: dict[int, dict[str, Any]] = {}

    def __getitem__(self, tid: int) -> ValType:
        t = self.types[tid]
        if t is None:
            if tid in self.building:
                raise ValueError(f"world descriptor: type {tid} refers to itself")
            self.building.add(tid)
            t = self.types[tid] = self._build(tid, self.entries[tid])
            self.building.discard(tid)
        return t

    def optional(self, tid: Optional[int]) -> Optional[ValType]:
        return None if tid is None else self[tid]

    def all(self) -> list[ValType]:
        return [self[i] for i in range(len(self.entries))]

    def _build(self, tid: int, e: dict[str, Any]) -> ValType:
        kind = e["kind"]
        if kind == "list":
            return _canon.list_of(self[e["elem"]])
        if kind == "option":
            return _canon.Option(self[e["elem"]])
        if kind == "result":
            return _canon.Result(self.optional(e.get("ok")), self.optional(e.get("err")))
        if kind == "tuple":
            return _canon.Tuple([self[i] for i in e["elems"]])
        if kind in ("record", "variant", "enum", "flags"):
            return self._named(tid, kind, e)
        return _canon.primitive(kind)

    def _named(self, tid: int, kind: str, e: dict[str, Any]) -> ValType:
        wit = e["name"]
        name = pascal(wit)
        module = self.module_of(e.get("interface") or "")
        doc = f"WIT {kind} {wit}" + (f" (interface {e['interface']})" if e.get("interface") else "")
        t: ValType
        if kind == "record":
            fields = [(snake(f["name"]), self[f["type"]]) for f in e["fields"]]
            cls = dataclasses.make_dataclass(name, [(n, ft.annotation) for n, ft in fields])
            _place(cls, module, doc)
            t = _canon.Record(wit, fields, cls)
            self.exposed[tid] = {name: cls}
        elif kind == "variant":
            cases = []
            for c in e["cases"]:
                payload = self.optional(c.get("type"))
                value_field = [("value", payload.annotation)] if payload is not None else []
                case_cls = dataclasses.make_dataclass(name + pascal(c["name"]), value_field)
                _place(case_cls, module, f"Case {c['name']} of {doc}")
                cases.append((payload, case_cls))
            alias = Union[tuple(cls for _, cls in cases)] if cases else Any
            t = _canon.Variant(wit, cases, alias)
            self.exposed[tid] = {name: alias, **{cls.__name__: cls for _, cls in cases}}
        elif kind == "enum":
            members = [(upper_snake(c), i) for i, c in enumerate(e["cases"])]
            enum_cls = enum.Enum(name, members, module=module, qualname=name)  # type: ignore[misc]
            enum_cls.__doc__ = doc
            t = _canon.Enum(wit, enum_cls)
            self.exposed[tid] = {name: enum_cls}
        else:
            flags = e["flags"]
            members = [(upper_snake(f), 1 << i) for i, f in enumerate(flags)]
            flag_cls = enum.Flag(name, members, module=module, qualname=name)  # type: ignore[misc]
            flag_cls.__doc__ = doc
            t = _canon.Flags(wit, flag_cls, len(flags))
            self.exposed[tid] = {name: flag_cls}
        return t


def _place(cls: type, module: str, doc: str) -> None:
    cls.__module__ = module
    cls.__doc__ = doc


def wit_signature(func: dict[str, Any], table: TypeTable) -> str:
    """``func(addr: u8, write-data: list<u8>) -> result<list<u8>, string>``"""
    params = ", ".join(f"{p['name']}: {table[p['type']].wit}" for p in func["params"])
    result = func.get("result")
    return f"func({params})" + (f" -> {table[result].wit}" if result is not None else "")


def _return_annotation(t: Optional[ValType]) -> Any:
    if t is None:
        return None
    if isinstance(t, _canon.Result):  # the ok value; the error is raised
        return t.ok.annotation if t.ok is not None else None
    return t.annotation


# ---- the world ---------------------------------------------------------------


class _Namespace:
    """The modules and package attributes a bootstrap created, so that the
    next bootstrap (tests, `harvester build`) starts clean."""

    def __init__(self) -> None:
        self.modules: dict[str, types.ModuleType] = {}
        self.attributes: list[tuple[types.ModuleType, str]] = []

    def module(self, fullname: str) -> types.ModuleType:
        if fullname in (IMPORTS, EXPORTS):
            return sys.modules[fullname]
        mod = self.modules.get(fullname)
        if mod is None:
            parent_name, _, attr = fullname.rpartition(".")
            mod = types.ModuleType(fullname, f"WIT interface {attr} (generated by harvester._bootstrap)")
            mod.__all__ = []  # type: ignore[attr-defined]
            sys.modules[fullname] = mod
            self.modules[fullname] = mod
            self.set(sys.modules[parent_name], attr, mod)
        return mod

    def set(self, mod: types.ModuleType, attr: str, value: Any) -> None:
        setattr(mod, attr, value)
        if mod.__name__ not in self.modules:
            self.attributes.append((mod, attr))
        names = getattr(mod, "__all__", None)
        if isinstance(names, list) and attr not in names:
            names.append(attr)

    def clear(self) -> None:
        for mod, attr in self.attributes:
            if hasattr(mod, attr):
                delattr(mod, attr)
            names = getattr(mod, "__all__", None)
            if isinstance(names, list) and attr in names:
                names.remove(attr)
        for name in self.modules:
            sys.modules.pop(name, None)
        self.modules.clear()
        self.attributes.clear()


_namespace = _Namespace()
_areas = ReturnAreas(8)
_handlers: dict[int, Callable[[int, int, int], None]] = {}
_pending: dict[int, list[int]] = {}


def _stub(qualname: str, signature: inspect.Signature, doc: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{qualname} is not implemented")

    method.__name__ = qualname.rsplit(".", 1)[-1]
    method.__qualname__ = qualname
    method.__doc__ = doc
    method.__signature__ = signature  # type: ignore[attr-defined]
    method.__harvester_stub__ = True  # type: ignore[attr-defined]
    return method


def bootstrap(descriptor: str, app_module: str = "app") -> None:
    """Builds ``harvester.imports.*`` / ``harvester.exports.*`` from the
    world descriptor, imports ``app_module`` and instantiates its export
    classes. Raises TypeError when the app lacks a class or method the world
    exports (``harvester build`` reports it)."""
    global _areas
    world = json.loads(descriptor)
    world_name = world.get("world", "?")
    imports = world.get("imports", [])
    exports = world.get("exports", [])

    _namespace.clear()
    _areas.release()
    _handlers.clear()
    for blocks in _pending.values():
        while blocks:
            _harvester.free(blocks.pop())
    _pending.clear()

    exported = {interface_name(i["interface"]) for i in exports}

    def module_of(interface: str) -> str:
        if not interface:
            return IMPORTS  # types declared by the world itself
        name = interface_name(interface)
        return f"{EXPORTS if name in exported else IMPORTS}.{snake(name)}"

    table = TypeTable(world.get("types", []), module_of)
    table.all()  # every class exists before any module is filled

    for iface in [*imports, *exports]:
        mod = _namespace.module(module_of(iface["interface"]))
        for tid in iface.get("types", []):
            table[tid]
            for attr, value in table.exposed.get(tid, {}).items():
                _namespace.set(mod, attr, value)
    for tid, exposed in table.exposed.items():  # types only used, never listed
        mod = _namespace.module(module_of(table.entries[tid].get("interface") or ""))
        for attr, value in exposed.items():
            if not hasattr(mod, attr):
                _namespace.set(mod, attr, value)

    _areas = ReturnAreas(max([_return_area(table, f) for i in imports for f in i["functions"]], default=8))
    for iface in imports:
        mod = _namespace.module(module_of(iface["interface"]))
        for func in iface["functions"]:
            fn = _import_function(iface["interface"], mod.__name__, func, table, _areas)
            _namespace.set(mod, fn.__name__, fn)

    exports_pkg = sys.modules[EXPORTS]
    for iface in exports:
        cls_name = pascal(interface_name(iface["interface"]))
        _namespace.set(exports_pkg, cls_name, _export_base(cls_name, iface, table))

    if not exports:
        return
    app = importlib.import_module(app_module)
    handlers: dict[int, Callable[[int, int, int], None]] = {}
    for iface in exports:
        handlers.update(_bind_export(app, app_module, world_name, iface, table))
    _handlers.update(handlers)  # only once every export class is complete


def _return_area(table: TypeTable, func: dict[str, Any]) -> int:
    """Bytes the host may write at ``ret`` for an import's result."""
    result = table.optional(func.get("result"))
    if result is None or len(result.flat) <= _canon.MAX_FLAT_RESULTS:
        return 8
    return result.size


def _import_function(
    interface: str, module: str, func: dict[str, Any], table: TypeTable, areas: ReturnAreas
) -> Callable[..., Any]:
    """The module function for an imported host function."""
    name = snake(func["name"])
    params = [Param(snake(p["name"]), table[p["type"]]) for p in func["params"]]
    result = table.optional(func.get("result"))
    signature = inspect.Signature(
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=p.type.annotation) for p in params],
        return_annotation=_return_annotation(result),
    )
    fn = _calls.make_import(
        where=f"{module.rsplit('.', 1)[-1]}.{name}",
        target=f"{interface}#{func['name']}",
        params=params,
        result=result,
        areas=areas,
        signature=signature,
    )
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = module
    fn.__doc__ = f"{interface}.{func['name']}: {wit_signature(func, table)}"
    fn.__signature__ = signature  # type: ignore[attr-defined]
    fn.__annotations__ = {p.name: p.type.annotation for p in params} | {"return": signature.return_annotation}
    return fn


def _export_base(cls_name: str, iface: dict[str, Any], table: TypeTable) -> type:
    namespace: dict[str, Any] = {
        "__doc__": f"Base class (optional) for the app's implementation of WIT interface {iface['interface']}.",
        "__module__": EXPORTS,
    }
    for func in iface["functions"]:
        name = snake(func["name"])
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [
            inspect.Parameter(snake(p["name"]), inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=table[p["type"]].annotation)
            for p in func["params"]
        ]
        result = table.optional(func.get("result"))
        signature = inspect.Signature(params, return_annotation=_return_annotation(result))
        namespace[name] = _stub(f"{cls_name}.{name}", signature, f"{iface['interface']}.{func['name']}: {wit_signature(func, table)}")
    return type(cls_name, (), namespace)


def _bind_export(
    app: types.ModuleType, app_module: str, world: str, iface: dict[str, Any], table: TypeTable
) -> dict[int, Callable[[int, int, int], None]]:
    """Instantiates the app's class for an exported interface; returns the
    handlers of its functions by id."""
    wit_name = iface["interface"]
    cls_name = pascal(interface_name(wit_name))
    cls = getattr(app, cls_name, None)
    if not isinstance(cls, type):
        raise TypeError(f"{app_module}.py must define class {cls_name} (world {world} exports {wit_name})")
    for func in iface["functions"]:
        name = snake(func["name"])
        method = getattr(cls, name, None)
        if not callable(method) or getattr(method, "__harvester_stub__", False):
            raise TypeError(
                f"{app_module}.py: class {cls_name} has no method {name} "
                f"({wit_name}.{func['name']}: {wit_signature(func, table)})"
            )
    instance = cls()
    handlers = {}
    for func in iface["functions"]:
        name = snake(func["name"])
        bound = getattr(instance, name)
        params = [Param(snake(p["name"]), table[p["type"]]) for p in func["params"]]
        _check_arity(bound, len(params), f"{app_module}.py: {cls_name}.{name}", f"{wit_name}.{func['name']}: {wit_signature(func, table)}")
        result = table.optional(func.get("result"))
        fid = int(func["id"])
        pending = _pending.setdefault(fid, [])
        handlers[fid] = _calls.make_export(
            where=f"{cls_name}.{name}",
            params=params,
            result=result,
            method=bound,
            pending=pending,
        )
    return handlers


def _check_arity(method: Callable[..., Any], nparams: int, what: str, wit: str) -> None:
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return  # builtins and the like: trust them
    try:
        signature.bind(*([None] * nparams))
    except TypeError:
        shown = signature.replace(return_annotation=inspect.Signature.empty)
        raise TypeError(f"{what}{shown} cannot take the {nparams} parameter(s) of {wit}") from None


# ---- entry points for the host ---------------------------------------------


def dispatch(fid: int, args: int, nargs: int, ret: int) -> None:
    """Calls export ``fid`` with ``nargs`` flat slots at ``args``; writes its
    result slot at ``ret``."""
    handler = _handlers.get(fid)
    if handler is None:
        raise LookupError(f"no exported function has id {fid}")
    handler(args, nargs, ret)


def post_return(fid: int) -> None:
    """Frees the guest blocks of export ``fid``'s last result, once the host
    has lifted it."""
    blocks = _pending.get(fid)
    if blocks:
        free = _harvester.free
        while blocks:
            free(blocks.pop())


__all__ = ["bootstrap", "dispatch", "post_return", "snake", "pascal", "upper_snake", "TypeTable", "wit_signature"]
