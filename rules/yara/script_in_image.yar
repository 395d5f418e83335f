rule script_in_image
{
    meta:
        id = "shellward-yara-script-in-image"
        title = "Server Script Hidden In A File Named As Data"
        description = "PHP, ASP or JSP code in a file whose extension says image, text or style (jpg, png, gif, ico, txt, css...; not JavaScript, whose editors and templates hold such code as text): uploaded shells waiting for an include or a handler mapping to run them"
        level = "high"
        scope = "any"
        attack = "attack.persistence, attack.t1505.003, attack.defense_evasion, attack.t1036.008"
        author = "shellward"
    strings:
        $php = /<\?php[^?]{0,400}\b(eval|assert|system|exec|shell_exec|passthru|base64_decode|\$_(POST|GET|REQUEST|COOKIE))\b/ nocase
        $asp = /<%@\s*(page|language|webhandler)\b|<%[^%]{0,300}\b(execute|eval)\s*[\( ]\s*request\b|<%[^%]{0,300}createobject\s*\(\s*"(wscript\.shell|scripting\.filesystemobject|shell\.application)/ nocase
        $jsp = /<%[^%]{0,300}(getruntime\s*\(\s*\)\s*\.\s*exec|new\s+processbuilder)/ nocase
    condition:
        extension matches /^(jpe?g|png|gif|bmp|ico|svg|webp|txt|css|log|pdf|zip)$/i and any of them
}
