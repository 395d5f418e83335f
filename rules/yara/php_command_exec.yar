rule php_command_exec
{
    meta:
        id = "shellward-yara-php-command-exec"
        title = "PHP Runs A Command From The Request"
        description = "system, exec, shell_exec, passthru, popen, proc_open or backticks given request data: a PHP command shell"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003, attack.execution, attack.t1059.004"
        author = "shellward"
    strings:
        $call = /\b(system|exec|shell_exec|passthru|popen|proc_open|pcntl_exec)\s*\(\s*[^;]{0,80}\$_(POST|GET|REQUEST|COOKIE|SERVER)\b/ nocase
        $tick = /(=|\(|\becho|\bprint|\breturn|<\?=)\s*`[^`\n]{0,20}\$_(POST|GET|REQUEST|COOKIE)\s*\[[^\]`\n]{1,40}\][^`\n]{0,20}`/ nocase
        $twostep = /\$[a-z_0-9]{1,20}\s*=\s*\$_(POST|GET|REQUEST|COOKIE)\s*\[[^;]{1,60};[^;]{0,200}\b(system|shell_exec|passthru|popen|proc_open)\s*\(\s*\$/ nocase
    condition:
        any of them
}
