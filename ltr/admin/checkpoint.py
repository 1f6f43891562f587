"""Checkpoints: safe save/load, nets rebuilt from metadata, and reading foreign pickles safely.

Our checkpoints hold only tensors and plain data, so they load with ``weights_only=True``.
Foreign files (STARK, JCAT releases) pickle settings objects; ``restricted_load`` reads them
with an unpickler that turns unknown classes into inert stubs and never runs their code.
"""
from __future__ import annotations

import io
import pickle
import warnings
import random
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import ltr
from ltr.admin.atomic import atomic_write_with
from ltr.models.backbone.pretrained import without_pretrained

FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be read safely or does not hold what we expect."""


def code_version() -> str:
    """Package version plus the git commit when run from a checkout."""
    try:
        root = Path(__file__).resolve().parents[2]
        sha = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{ltr.__version__}+{sha}" if sha else ltr.__version__


def rng_state() -> dict[str, Any]:
    """RNG states of python, numpy and torch as plain data (tensors and lists)."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "python": [py_state[0], list(py_state[1]), py_state[2]],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore the states captured by :func:`rng_state`."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    path: str | Path,
    net: nn.Module,
    network_name: str,
    network_kwargs: dict[str, Any],
    config: dict[str, Any] | None = None,
    epoch: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    scaler: Any = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint atomically; everything in it loads with ``weights_only=True``."""
    net = getattr(net, "module", net)  # unwrap DDP
    payload = {
        "format_version": FORMAT_VERSION,
        "network": {"name": network_name, "kwargs": dict(network_kwargs)},
        "state_dict": net.state_dict(),
        "config": config or {},
        "epoch": int(epoch),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng": rng_state(),
        "code_version": code_version(),
        "extra": extra or {},
    }
    path = Path(path)
    atomic_write_with(path, lambda handle: torch.save(payload, handle))
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load one of our checkpoints with ``weights_only=True``; refuse anything that needs code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path}: refused to load: the file needs code to be unpickled ({_unpickling_reason(err)}). "
            "Only weights-only checkpoints are loaded; convert foreign checkpoints with "
            "`ltr-convert-checkpoint`."
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, KeyError, ValueError, IndexError, TypeError) as err:
        # torch.load reports a truncated or foreign file in many ways (e.g. KeyError 101, EINVAL)
        raise CheckpointError(f"{path}: not a readable torch checkpoint, truncated or of another format "
                              f"({type(err).__name__}: {err})") from None
    if not isinstance(payload, dict) or "state_dict" not in payload or "network" not in payload:
        raise CheckpointError(f"{path}: not a project checkpoint (no 'network'/'state_dict' entries)")
    state = payload["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: its 'state_dict' is not a mapping of tensors")
    if not isinstance(payload["network"], dict):
        raise CheckpointError(f"{path}: malformed 'network' entry {payload['network']!r}")
    return payload


def _unpickling_reason(err: Exception) -> str:
    """The informative line of torch's weights-only refusal (which global it would import)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if "Unsupported global" in line or "Unsupported operand" in line:
            return line
    return lines[-1] if lines else "unknown reason"


def build_network_from_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the network from the checkpoint alone (registry name + kwargs) and load weights."""
    return network_from_payload(load_checkpoint(path, map_location), path)


def network_from_payload(payload: dict[str, Any], path: str | Path) -> nn.Module:
    """:func:`build_network_from_checkpoint` on a payload :func:`load_checkpoint` already read from ``path``."""
    from ltr.models.registry import NETWORKS

    spec = payload["network"]
    if not isinstance(spec, dict) or not isinstance(spec.get("kwargs", {}), dict):
        raise CheckpointError(f"{path}: malformed 'network' entry {spec!r}")
    try:
        # the checkpoint holds every weight: no ImageNet download, no "random init" warning
        net = NETWORKS.build(spec.get("name"), **without_pretrained(spec.get("kwargs", {})))
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: cannot rebuild network {spec.get('name')!r} from its recorded arguments "
                              f"({type(err).__name__}: {str(err).strip()[:300]}); the checkpoint was written by "
                              "another version of the code") from None
    try:
        net.load_state_dict(payload["state_dict"])
    except (RuntimeError, TypeError, AttributeError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        raise CheckpointError(f"{path}: weights do not fit network {spec.get('name')!r} "
                              f"({' '.join(lines[:3])[:400]})") from None
    broken = non_finite_tensors(net.state_dict())
    if broken:
        raise CheckpointError(f"{path}: {len(broken)} tensors hold NaN or infinite values (first: {broken[0]}); "
                              "the training diverged or the file is damaged")
    return net


def non_finite_tensors(state: dict[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors of ``state`` that hold a NaN or an infinity."""
    return [name for name, tensor in state.items()
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a plain state_dict file (torchvision/timm releases or ours) with weights_only=True."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"{path}: refused: needs code to unpickle ({_unpickling_reason(err)})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, KeyError, ValueError, IndexError, TypeError) as err:
        raise CheckpointError(f"{path}: not a readable weights file, truncated or of another format "
                              f"({type(err).__name__}: {err})") from None
    for key in ("state_dict", "model", "net"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: does not hold a state_dict of tensors")
    for key, tensor in obj.items():
        if tensor.untyped_storage().nbytes() < tensor.numel() * tensor.element_size():
            raise CheckpointError(f"{path}: tensor {key!r} claims {tuple(tensor.shape)} over a storage of "
                                  f"{tensor.untyped_storage().nbytes()} bytes (overlapping strides); not a weights "
                                  "file")
    return obj


# ----------------------------------------------------------------------------------------
# Foreign pickles (STARK / JCAT releases): read with stubs, never run code.


class PickleStub:
    """Stand-in for a class we refuse to import; records what it would have been given."""

    _module = ""
    _name = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args, self._kwargs = args, kwargs

    def __setstate__(self, state: Any) -> None:
        self._state = state

    def __repr__(self) -> str:
        return f"<stub {self._module}.{self._name}>"


def _stub_class(module: str, name: str) -> type:
    return type(name, (PickleStub,), {"_module": module, "_name": name})


_SAFE_GLOBALS = {
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch", "Size"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "tuple"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("builtins", "slice"),
    ("builtins", "complex"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "dtype"),
}
_STORAGE_NAMES = {
    "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage",
    "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage",
}


MAX_PICKLE_BYTES = 64 * 2**20  # data.pkl of a checkpoint holds structure only; tensors are separate members
_CHUNK = 8 * 2**20


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only tensor-rebuilding helpers and plain containers; everything else is a stub.

    Callables that are stubs construct inert objects instead of running code, so a
    crafted ``os.system`` reduce becomes a harmless stub instance. Storages are read from the
    archive only when the pickle references them, streamed into a buffer of exactly the size
    the pickle declares (a member larger or smaller than that is refused), so memory stays at
    the size of the tensors actually loaded whatever the archive holds.
    """

    def __init__(self, file: io.BufferedIOBase, archive: zipfile.ZipFile, prefix: str, source: Path) -> None:
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix
        self._source = source
        self._storages: dict[str, Any] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        if module == "torch" and name in _STORAGE_NAMES:
            return getattr(torch, name)
        return _stub_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) != 5:
            raise CheckpointError(f"{self._source}: unexpected persistent id {pid!r}")
        typename, storage_type, key, location, numel = pid
        if typename != "storage":
            raise CheckpointError(f"{self._source}: unexpected persistent id {typename!r}")
        with warnings.catch_warnings():  # TypedStorage is deprecated but is what the pickle holds
            warnings.simplefilter("ignore", UserWarning)
            dtype = getattr(storage_type, "dtype", None) or _storage_dtype(storage_type)
            key = str(key)
            if key not in self._storages:
                self._storages[key] = self._read_storage(key, int(numel) * _itemsize(dtype))
            return torch.storage.TypedStorage(wrap_storage=self._storages[key], dtype=dtype, _internal=True)

    def _read_storage(self, key: str, declared: int) -> torch.UntypedStorage:
        name = f"{self._prefix}data/{key}"
        try:
            info = self._archive.getinfo(name)
        except KeyError:
            raise CheckpointError(f"{self._source}: archive member {name} (a tensor's storage) is missing") from None
        if info.file_size != declared:
            raise CheckpointError(f"{self._source}: archive member {name} holds {info.file_size} bytes but the "
                                  f"checkpoint declares {declared}; refusing a malformed or crafted file")
        buffer = np.empty(declared, dtype=np.uint8)
        if declared:
            view = memoryview(buffer)
            filled = 0
            with self._archive.open(info) as member:
                while filled < declared:
                    got = member.readinto(view[filled:filled + _CHUNK])
                    if not got:
                        break
                    filled += got
                if filled != declared or member.read(1):
                    raise CheckpointError(f"{self._source}: archive member {name} does not hold the {declared} "
                                          "bytes it declares")
        return torch.from_numpy(buffer).untyped_storage()  # shares the buffer: no second copy


def _itemsize(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def _storage_dtype(storage_type: Any) -> torch.dtype:
    name = getattr(storage_type, "__name__", str(storage_type))
    table = {
        "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
        "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
        "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
        "BoolStorage": torch.bool,
    }
    if name not in table:
        raise CheckpointError(f"unsupported storage type {name}")
    return table[name]


def restricted_load(path: str | Path) -> Any:
    """Read a foreign torch checkpoint (zip format) without running any code in it.

    Unknown classes become :class:`PickleStub` subclasses; tensors are rebuilt from the
    archive's raw storages.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: file not found")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise CheckpointError(
            f"{path}: not a zip-format torch checkpoint; legacy (pre-1.6) files must first be "
            "re-saved with a trusted PyTorch"
        ) from None
    with archive:
        names = archive.namelist()
        pkl = next((n for n in names if n.endswith("data.pkl")), None)
        if pkl is None:
            raise CheckpointError(f"{path}: no data.pkl inside the archive")
        info = archive.getinfo(pkl)
        if info.file_size > MAX_PICKLE_BYTES:
            raise CheckpointError(f"{path}: {pkl} is {info.file_size} bytes (limit {MAX_PICKLE_BYTES}); "
                                  "not a checkpoint this loader accepts")
        with archive.open(info) as handle:
            data = handle.read(MAX_PICKLE_BYTES + 1)
        if len(data) > MAX_PICKLE_BYTES:
            raise CheckpointError(f"{path}: {pkl} is larger than it declares; refusing a crafted file")
        try:
            return RestrictedUnpickler(io.BytesIO(data), archive, pkl[: -len("data.pkl")], path).load()
        except CheckpointError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
                RuntimeError, zipfile.BadZipFile) as err:
            raise CheckpointError(f"{path}: unreadable pickle inside the checkpoint ({type(err).__name__}: "
                                  f"{str(err)[:200]})") from None


def foreign_state_dict(path: str | Path, key: str = "net") -> dict[str, torch.Tensor]:
    """The state_dict stored under ``key`` in a foreign checkpoint, read by :func:`restricted_load`."""
    obj = restricted_load(path)
    if isinstance(obj, dict) and key in obj:
        obj = obj[key]
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: no state_dict under '{key}'")
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError(f"{path}: the '{key}' entry holds no tensors")
    return tensors
