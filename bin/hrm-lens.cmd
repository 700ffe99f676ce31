@echo off
rem hrm-lens: the HRM Lens command line (dist\cli.js beside this folder). The extension puts this folder on the
rem PATH of VS Code's integrated terminal, with HRM_LENS_NODE naming VS Code's own runtime, which runs it as Node.js.
setlocal
if defined HRM_LENS_NODE (
  set ELECTRON_RUN_AS_NODE=1
  "%HRM_LENS_NODE%" "%~dp0..\dist\cli.js" %*
) else (
  node "%~dp0..\dist\cli.js" %*
)
exit /b %ERRORLEVEL%
