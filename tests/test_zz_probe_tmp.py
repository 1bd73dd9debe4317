import sys
def test_probe():
    names = sorted(n for n in sys.modules if n.startswith(("tests", "handlers", "conftest")))
    print(names)
    import importlib
    for name in ("handlers.tests.conftest", "handlers.tests"):
        m = sys.modules.get(name)
        print(name, m, getattr(m, "__path__", None))
